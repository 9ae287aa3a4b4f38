# Users only ever see and change their own tasks (docs/api.md §1, §3, §8):
# user B, through every route and path shape, can neither read, list,
# change, complete nor delete user A's tasks -- 404 on /api, 403 on
# /api403 ("TodoForeignTaskStatus 403", t/conf/locations/api403.conf) --
# and A's data is byte for byte the same afterwards.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest qw(:DEFAULT pg_quote pg_sql);

my $A = new_user('alice');
my $B = new_user('bob');
my ($ta, $tb) = (token($A), token($B));

my @locations = (['/api', 404, 'NOT_FOUND'], ['/api403', 403, 'FORBIDDEN']);
sub shapes {
    my ($loc, $user) = @_;
    return ("$loc/v1/tasks", "$loc/tasks", "$loc/$user/tasks", "$loc/v1/$user/tasks");
}

# [method, suffix after the task's URL, body, headers]: every way to reach
# one task, conditional requests included (a 412 or 304 would tell B that
# the task exists).
my @attempts = (
    [GET => ''],
    [GET => '', undef, { 'If-None-Match' => '"1"' }],
    [GET => '', undef, { 'If-None-Match' => '*' }],
    [PUT => '', { title => 'taken over' }],
    [PUT => '', { title => 'taken over' }, { 'If-Match' => '*' }],
    [PATCH => '', { title => 'taken over' }],
    [PATCH => '', { completed => JSON::PP::true }, { 'If-Match' => '"1"' }],
    [PATCH => '', { priority => 3 }, { 'If-Match' => '"99"' }],
    [PATCH => '/complete'],
    [PATCH => '/complete', { completed => JSON::PP::true }],
    [PATCH => '/complete', undef, { 'If-Match' => '"99"' }],
    [DELETE => ''],
    [DELETE => '', undef, { 'If-Match' => '*' }],
    [DELETE => '', undef, { 'If-Match' => '"1"' }],
);

plan tests => @locations * (4 * (@attempts + 1) + 4 + 7 * 2 + 2) + 3 + 8;

sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }

sub snapshot {
    my ($tok, @ids) = @_;
    my $list = req(GET => '/api/v1/tasks?limit=100&sort=created_at', token => $tok);
    my @one = map { req(GET => "/api/v1/tasks/$_", token => $tok)->content } @ids;
    return { list => (data($list) || {})->{tasks}, one => [map { eval { $JSON->decode($_)->{data} } } @one] };
}

sub refused {
    my ($res, $status, $code, $secret, $name) = @_;
    my $ok = $res->code == $status
        && ($res->request->method eq 'HEAD' || error_ok($res, $status, $code))
        && index($res->content // '', $secret) < 0;
    t_debug("$name: expected $status $code, got " . $res->code . ' '
            . substr($res->content // '', 0, 300)) unless $ok;
    return $ok;
}

# A's tasks: plain, completed, and with every field set.
my $secret = "alice's secret $$";
my @a = (create_task($ta, title => "$secret 1"),
         create_task($ta, title => "$secret 2", completed => JSON::PP::true),
         create_task($ta, title => "$secret 3", description => "$secret desc",
                     priority => 3, due_at => '2030-01-01T00:00:00Z'));
# B has tasks of its own, so that its list is not trivially empty.
my @b = map { create_task($tb, title => "bob $_") } 1 .. 3;
my $before = snapshot($ta, map { $_->{id} } @a);

for my $l (@locations) {
    my ($loc, $status, $code) = @$l;
    t_debug("=== $loc: another user's task is $status");
    for my $base (shapes($loc, $B)) {
        for my $x (@attempts) {
            my ($method, $suffix, $body, $headers) = @$x;
            my $t = $a[2];
            my $res = req($method => "$base/$t->{id}$suffix", token => $tb,
                          (defined $body ? (json => $body) : ()),
                          headers => $headers || {});
            ok refused($res, $status, $code, $secret,
                       "B: $method $base/A's task$suffix " . join(' ', %{ $headers || {} }));
        }
        ok refused(req(HEAD => "$base/$a[0]{id}", token => $tb), $status, $code,
                   $secret, "B: HEAD $base");
    }
    # B's list, whatever the filter, holds B's tasks only.
    my $ok = 1;
    for my $base (shapes($loc, $B)) {
        my %mine = map { $_->{id} => 1 } @b;
        for my $q ('', '?status=completed', '?q=' . "alice", '?sort=-priority&limit=100',
                   '?due_after=2000-01-01T00:00:00Z') {
            my $d = data(req(GET => "$base$q", token => $tb)) || {};
            my @ids = map { $_->{id} } @{ $d->{tasks} || [] };
            my $want = $q =~ /status=completed|alice|due_after/ ? 0 : 3;
            $ok &&= t_cmp(scalar(@ids), $want, "B's list $base$q")
                && t_cmp($d->{total}, $want, "B's total $base$q")
                && !grep { !$mine{$_} } @ids;
        }
        ok $ok;
    }

    # A's name in the path with B's token: 403 for every route, also for
    # a task that is A's.
    for my $base ("$loc/$A/tasks", "$loc/v1/$A/tasks") {
        my $item = "$base/$a[0]{id}";
        for my $c ([GET => $base], [POST => $base, { title => 'x' }], [GET => $item],
                   [PUT => $item, { title => 'x' }], [PATCH => $item, { title => 'x' }],
                   [PATCH => "$item/complete"], [DELETE => $item]) {
            my ($method, $path, $body) = @$c;
            ok refused(req($method => $path, token => $tb,
                           (defined $body ? (json => $body) : ()), headers => {}),
                       403, 'FORBIDDEN', $secret, "B: $method $path");
        }
    }
    # An unknown id is 404 on both locations, and B's own task is B's.
    ok refused(req(GET => "$loc/v1/tasks/00000000-0000-4000-8000-000000000000", token => $tb),
               404, 'NOT_FOUND', $secret, "$loc: unknown id");
    ok t_cmp(data(req(GET => "$loc/v1/tasks/$b[0]{id}", token => $tb)), $b[0],
             "$loc: B reads its own task");
}

# The user id is taken from the token only: neither a body nor the query
# can name another user.
ok t_cmp(req(POST => '/api/v1/tasks', token => $tb,
             json => { title => 'x', user_id => $A })->code, 400, 'user_id in a body');
ok t_cmp(req(GET => "/api/v1/tasks?user_id=$A", token => $tb)->code, 400,
         'user_id in the query');

# A's data is exactly as it was.
my $after = snapshot($ta, map { $_->{id} } @a);
ok t_cmp($after, $before, "A's tasks are unchanged");

# The same id for two users (possible: the key is (user_id, id)): every
# statement is scoped by the user, so each sees, changes and deletes only
# its own row.
my $shared = $a[0]{id};
pg_sql("INSERT INTO tasks (user_id, id, title) VALUES (" . pg_quote($B)
       . ", '$shared', 'bob with the same id')");
my $bt = data(req(GET => "/api/v1/tasks/$shared", token => $tb)) || {};
ok t_cmp($bt->{title}, 'bob with the same id', "B reads its own row of the shared id");
ok t_cmp(data(req(GET => "/api/v1/tasks/$shared", token => $ta)), $before->{one}[0],
         "A still reads its own");
my $res = req(PATCH => "/api/v1/tasks/$shared", token => $tb,
              json => { title => 'bob changed it' }, headers => { 'If-Match' => '"1"' });
ok t_cmp($res->code, 200, 'B changes its row');
$res = req(PATCH => "/api/v1/tasks/$shared/complete", token => $tb);
ok t_cmp((data($res) || {})->{completed}, JSON::PP::true, 'B completes its row');
ok t_cmp(req(DELETE => "/api403/v1/tasks/$shared", token => $tb)->code, 204,
         'B deletes its row');
ok t_cmp(data(req(GET => "/api/v1/tasks/$shared", token => $ta)), $before->{one}[0],
         "A's row of the shared id is untouched");
# With B's row gone, the id is A's again: 404, or 403 where so configured.
ok t_cmp(req(GET => "/api/v1/tasks/$shared", token => $tb)->code, 404, 'then 404 for B');
ok t_cmp(req(GET => "/api403/v1/tasks/$shared", token => $tb)->code, 403,
         'and 403 on /api403');
