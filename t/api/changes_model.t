# The changes feed against a model (docs/api.md §10): four clients create,
# update, replace, toggle and delete one user's tasks at random, at the
# same time, while a fifth keeps a copy of them by syncing over and over,
# three changes a page.  Meanwhile a transaction of the database's own
# updates one of the tasks and stays open across a sync, so that its write
# commits after later ones (commits out of order).  Within one sync no
# task comes twice; the slow write is missing from the sync that ran
# while it was open and present in the next one; and once the writers
# stop and the copy is up to date it equals the user's tasks, field for
# field.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use HTTP::Request;
use LWP::UserAgent;
use Time::HiRes qw(sleep time);
use TodoTest qw(:DEFAULT db_connect);

use constant WRITERS => 4;
use constant SECONDS => 6;
use constant LIMIT => 3;

plan tests => 8;

my $user = new_user('model');
my $tok = token($user);
sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }

my @seed = map { create_task($tok, title => "seed $_") } 1 .. 30;
# The task the slow transaction writes; no writer touches it.
my $quiet = create_task($tok, title => 'quiet');

# ------------------------------------------------------------ the copy
my (%copy, $token, $syncs, @twice);

# One sync, page after page, applied to the copy.  Returns the ids it
# carried.
sub sync_once {
    my (%seen, @ids);
    for (;;) {
        my $res = req(GET => '/api/v1/changes?limit=' . LIMIT
                      . ($token ? "&since=$token" : ''), token => $tok);
        my $d = data($res);
        die 'sync: ' . $res->as_string unless $res->code == 200 && $d;
        for my $c (@{ $d->{changes} }) {
            push @twice, $c->{id} if $seen{ $c->{id} }++;
            push @ids, $c->{id};
            if ($c->{deleted}) {
                delete $copy{ $c->{id} };
            }
            else {
                $copy{ $c->{id} } = $c;
            }
        }
        $token = $d->{next_token};
        last unless $d->{has_more};
    }
    $syncs++;
    return @ids;
}

# ------------------------------------------------------------ writers
sub writer {
    my ($n) = @_;
    srand($$ ^ time);
    my $ua = LWP::UserAgent->new(keep_alive => 1, timeout => 30);
    my $call = sub {
        my ($method, $path, $body) = @_;
        my $r = HTTP::Request->new($method => api($path));
        $r->header(Authorization => "Bearer $tok");
        if ($body) {
            $r->content($JSON->encode($body));
            $r->header('Content-Type' => 'application/json');
        }
        return $ua->request($r);
    };
    my @mine = map { $_->{id} } grep { ($_->{title} =~ /(\d+)$/)[0] % WRITERS == $n } @seed;
    my ($ops, $bad) = (0, 0);
    my $end = time + SECONDS;
    while (time < $end) {
        my $dice = rand;
        my $id = @mine ? $mine[rand @mine] : undef;
        my $res;
        if (!$id || $dice < 0.25) {
            $res = $call->(POST => '/api/v1/tasks',
                           { title => "w$n made " . $ops, priority => int rand 4 });
            push @mine, ($JSON->decode($res->content)->{data}{id}) if $res->code == 201;
        }
        elsif ($dice < 0.45) {
            $res = $call->(PATCH => "/api/v1/tasks/$id",
                           { title => "w$n patched $ops", due_at => rand > 0.5
                             ? undef : '2031-01-01T00:00:00Z' });
        }
        elsif ($dice < 0.6) {
            $res = $call->(PATCH => "/api/v1/tasks/$id/complete");
        }
        elsif ($dice < 0.7) {
            $res = $call->(PUT => "/api/v1/tasks/$id",
                           { title => "w$n replaced $ops", description => "d$ops" });
        }
        else {
            $res = $call->(DELETE => "/api/v1/tasks/$id");
            @mine = grep { $_ ne $id } @mine if $res->code == 204;
        }
        $bad++ unless $res->code =~ /^20[014]$/;
        $ops++;
    }
    print "$ops $bad\n";
}

my (@pipes, @pids);
for my $n (0 .. WRITERS - 1) {
    pipe my $r, my $w or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        select $w;
        $| = 1;
        writer($n);
        require POSIX;
        POSIX::_exit(0);
    }
    close $w;
    push @pids, $pid;
    push @pipes, $r;
}

# ------------------------------------------------- syncing meanwhile
sync_once();
sleep 1;
# The slow transaction: begun (and written) before a sync, committed
# after it, while the writers commit theirs.
my $db = db_connect();
$db->begin_work;
$db->do("UPDATE tasks SET title = 'slow title', priority = 3"
        . " WHERE user_id = ? AND id = ?", undef, $user, $quiet->{id});
sleep 0.5;
my @during = sync_once();
my $during_ok = !grep { $_ eq $quiet->{id} } @during;
my $got_others = @during > 0;
$db->commit;
my @next = sync_once();
my $next_ok = grep { $_ eq $quiet->{id} } @next;
my $t_end = time + SECONDS;
sync_once() while time < $t_end;

# ----------------------------------------------------------- the end
my ($ops, $bad) = (0, 0);
for my $i (0 .. $#pids) {
    my $fh = $pipes[$i];
    my $line = <$fh> // '0 1';
    my ($o, $b) = split ' ', $line;
    $ops += $o;
    $bad += $b;
    waitpid $pids[$i], 0;
}
t_debug("writers: $ops operations; $syncs syncs");
ok t_cmp($bad, 0, 'every write succeeded (each writer has tasks of its own)');
sync_once();

ok $during_ok;      # the sync during the slow transaction: not its write
ok $got_others;     # ... though it had the writers' later commits
ok $next_ok;        # the next sync: its write
ok t_cmp(\@twice, [], 'no task twice within one sync');
ok $ops > 100 && $syncs > 5;

# The server's tasks, walked by cursor, against the copy.
my %server;
my $path = '/api/v1/tasks?limit=100&sort=created_at';
while ($path) {
    my $res = req(GET => $path, token => $tok);
    my $d = data($res) or die $res->as_string;
    $server{ $_->{id} } = $_ for @{ $d->{tasks} };
    ($path) = ($res->header('Link') // '') =~ /^<([^>]+)>/;
}
ok t_cmp(scalar keys %copy, scalar keys %server, 'as many tasks as the server');
ok t_cmp(\%copy, \%server, 'the copy equals the server, field for field');
