# Concurrent writes (docs/api.md §3 and §8): of two writes holding the same
# ETag exactly one succeeds, toggles racing toggles are both applied,
# writes without If-Match are serialized, and parallel creates all land.
# The requests of a race really overlap: each goes out on its own
# connection, all but its last byte first, then the last bytes together.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest qw(:DEFAULT raw_exchange raw_request);

use constant ROUNDS => 20;
use constant TOGGLES => 10;
use constant CREATES => 30;

plan tests => ROUNDS + 1 + TOGGLES + 1 + 2 + 4;

my $me = new_user('race');
my $tok = token($me);

sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }
sub current { data(req(GET => "/api/v1/tasks/$_[0]", token => $tok)) || {} }

# Two PATCHes with the same If-Match: one 200, one 412, every time.
my $t = create_task($tok, title => 'raced');
my $path = "/api/v1/tasks/$t->{id}";
for my $round (1 .. ROUNDS) {
    my $v = current($t->{id})->{version} // 0;
    my @res = raw_exchange([map {
        raw_request(PATCH => $path, token => $tok,
                    json => { title => "round $round writer $_", priority => $_ },
                    headers => ['If-Match' => qq("$v")])
    } 0, 1]);
    my @codes = sort map { $_->code } @res;
    my ($winner) = grep { $_->code == 200 } @res;
    my ($loser) = grep { $_->code == 412 } @res;
    my $ok = "@codes" eq '200 412'
        && error_ok($loser, 412, 'PRECONDITION_FAILED')
        && (data($winner) || {})->{version} == $v + 1
        && ($winner->header('ETag') // '') eq '"' . ($v + 1) . '"';
    t_debug("round $round: @codes " . join(' | ', map { $_->content } @res)) unless $ok;
    ok $ok;
}
# The loser wrote nothing: one version per round.
my $final = current($t->{id});
ok t_cmp($final->{version}, 1 + ROUNDS, 'one write per round');

# Toggles racing toggles: both apply (the task flips twice), none is lost.
my $c = create_task($tok, title => 'toggled');
my $cpath = "/api/v1/tasks/$c->{id}/complete";
for my $round (1 .. TOGGLES) {
    my $before = current($c->{id});
    my @res = raw_exchange([map { raw_request(PATCH => $cpath, token => $tok) } 1, 2]);
    my $after = current($c->{id});
    my @versions = sort { $a <=> $b } map { (data($_) || {})->{version} // 0 } @res;
    my $ok = (grep { $_->code == 200 } @res) == 2
        && "@versions" eq join(' ', $before->{version} + 1, $before->{version} + 2)
        && $after->{version} == $before->{version} + 2
        && $after->{completed} eq $before->{completed}
        && !defined $after->{completed_at} == !$after->{completed};
    t_debug("toggle round $round: " . join(' | ', map { $_->code . ' ' . $_->content } @res))
        unless $ok;
    ok $ok;
}
ok t_cmp(current($c->{id})->{version}, 1 + 2 * TOGGLES, 'every toggle counted');

# Without If-Match, concurrent PATCHes are serialized: all succeed, each
# with its own version.
my $s = create_task($tok, title => 'serialized');
my @res = raw_exchange([map {
    raw_request(PATCH => "/api/v1/tasks/$s->{id}", token => $tok,
                json => { description => "writer $_" })
} 1 .. 8]);
my @versions = sort { $a <=> $b } map { (data($_) || {})->{version} // 0 } @res;
ok t_cmp(\@versions, [2 .. 9], 'eight writes, eight versions');
my $last = current($s->{id});
my ($latest) = grep { (data($_) || {})->{version} == 9 } @res;
ok t_cmp($last->{description}, (data($latest) || {})->{description},
         'the last write is what is stored');

# N creates at once: N distinct tasks, all listed.
my $u = new_user('parallel');
my $utok = token($u);
@res = raw_exchange([map {
    raw_request(POST => '/api/v1/tasks', token => $utok, json => { title => "parallel $_" })
} 1 .. CREATES]);
my @ok = grep { $_->code == 201 && envelope_ok($_) } @res;
ok t_cmp(scalar @ok, CREATES, 'every create answered 201');
my %ids = map { (data($_) || {})->{id} // '' => 1 } @ok;
ok t_cmp(scalar keys %ids, CREATES, 'with distinct ids');
my $list = data(req(GET => '/api/v1/tasks?limit=100', token => $utok)) || {};
ok t_cmp($list->{total}, CREATES, 'the list counts them all');
ok t_cmp([sort map { $_->{id} } @{ $list->{tasks} || [] }], [sort keys %ids],
         'and lists exactly them');
