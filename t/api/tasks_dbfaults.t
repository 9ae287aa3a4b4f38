# The task routes while PostgreSQL is down and after it comes back (docs/api.md
# §8): every route answers 503 SERVICE_UNAVAILABLE with Retry-After
# and writes nothing; once the database is back the same httpd (no
# restart: the pid file is unchanged) serves every route again, on every
# pooled connection, writes included.  Then the same
# after a restart while the server sat idle, when every pooled connection
# still looks alive but lost its server (and its prepared statements).
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Time::HiRes qw(time sleep);
use TodoTest qw(:DEFAULT httpd_pid raw_exchange raw_request);

my $me = new_user('dbfaults');
my $tok = token($me);

# Concurrent requests per wave, and waves: more than the pool can hold
# (3 children x DBDMax 8), so every pooled connection is used.
use constant WAVE => 48;
use constant WAVES => 3;

sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }
sub get_task { data(req(GET => "/api/v1/tasks/$_[0]", token => $tok)) }

# Every task route, as [name, method, path, body, expected status once
# the database is up].  Each write has a task of its own.
sub routes {
    my ($tag) = @_;
    my %t;
    for my $k (qw(get put patch complete toggle delete)) {
        $t{$k} = create_task($tok, title => "$tag $k", description => 'as created');
    }
    return (\%t, [
        [list => GET => '/api/v1/tasks?limit=5', undef, 200],
        [create => POST => '/api/v1/tasks', { title => "created $tag" }, 201],
        [get => GET => "/api/v1/tasks/$t{get}{id}", undef, 200],
        [head => HEAD => "/api/v1/tasks/$t{get}{id}", undef, 200],
        [put => PUT => "/api/v1/tasks/$t{put}{id}", { title => "put $tag" }, 200],
        [patch => PATCH => "/api/v1/tasks/$t{patch}{id}", { title => "patched $tag" }, 200],
        [complete => PATCH => "/api/v1/tasks/$t{complete}{id}/complete",
         { completed => JSON::PP::true }, 200],
        [toggle => PATCH => "/api/v1/tasks/$t{toggle}{id}/complete", undef, 200],
        [delete => DELETE => "/api/v1/tasks/$t{delete}{id}", undef, 204],
    ]);
}

sub send_route {
    my ($r) = @_;
    my (undef, $method, $path, $body) = @$r;
    return req($method => $path, token => $tok, (defined $body ? (json => $body) : ()));
}

sub unavailable_ok {
    my ($res, $name) = @_;
    my $ok = $res->code == 503
        && ($res->request->method eq 'HEAD' || error_ok($res, 503, 'SERVICE_UNAVAILABLE'))
        && ($res->header('Retry-After') // '') =~ /^\d+$/
        && ($res->content // '') !~ /SELECT|INSERT|UPDATE|pg_|host=|password|todo_app/;
    t_debug("$name: " . $res->as_string) unless $ok;
    return $ok;
}

# A wave of concurrent requests mixing every route (on tasks made for
# it); returns the statuses that are not what the route answers when all
# is well.
sub wave {
    my ($tag) = @_;
    my @tasks = map { create_task($tok, title => "$tag wave $_") } 1 .. WAVE / 4;
    my (@texts, @want);
    for my $i (0 .. WAVE - 1) {
        my $t = $tasks[$i % @tasks];
        my $kind = $i % 6;
        my @r = $kind == 0 ? (GET => '/api/v1/tasks?limit=3', 200)
              : $kind == 1 ? (POST => '/api/v1/tasks', 201, { title => "$tag $i" })
              : $kind == 2 ? (GET => "/api/v1/tasks/$t->{id}", 200)
              : $kind == 3 ? (PATCH => "/api/v1/tasks/$t->{id}", 200, { priority => $i % 4 })
              : $kind == 4 ? (PATCH => "/api/v1/tasks/$t->{id}/complete", 200)
              :              (PUT => "/api/v1/tasks/$t->{id}", 200, { title => "$tag $i" });
        push @texts, raw_request($r[0] => $r[1], token => $tok,
                                 (defined $r[3] ? (json => $r[3]) : ()));
        push @want, $r[2];
    }
    my @res = raw_exchange(\@texts);
    my @bad = map { "$want[$_] -> " . $res[$_]->code }
        grep { $res[$_]->code != $want[$_] } 0 .. $#res;
    t_debug("$tag: unexpected: @bad") if @bad;
    return @bad;
}

# Should this script die while the database is down, start it again, so
# that the suites after this one do not fail for it.
my $db_down = 0;
sub db_stop { pg_stop(); $db_down = 1 }
sub db_start { pg_start(); $db_down = 0 }
END { local $?; eval { pg_start() } if $db_down }

my ($down_tasks, $down_routes) = routes('down');
my ($up_tasks, $up_routes) = routes('up');
plan tests => @$down_routes + 1 + @$up_routes + 1 + 3 + WAVES + WAVES + 1;

my $pid = httpd_pid();
my %before = map { $_ => get_task($down_tasks->{$_}{id}) } keys %$down_tasks;

# Warm the pool: every connection of every child exists and is alive.
wave('warm-up');

# ---------------------------------------------------------- database down
db_stop();
for my $r (@$down_routes) {
    ok unavailable_ok(send_route($r), "$r->[0] while the database is down");
}
# Concurrently too, on as many pooled connections as there are.
my @res = raw_exchange([map { raw_request(GET => '/api/v1/tasks', token => $tok),
                              raw_request(POST => '/api/v1/tasks', token => $tok,
                                          json => { title => 'created down' }) } 1 .. 12]);
ok t_cmp([grep { $_->code != 503 } @res], [], 'all 503 while down');

# ------------------------------------------------------------ database up
db_start();
my $t0 = time;
# Every route recovers once the database is back: within seconds, but a
# loaded machine (the sanitizer build, other suites) gets 20 s, since this
# is about recovering at all, not about how fast.
my $recovered = 1;
for my $r (@$up_routes) {
    my $left = 20 - (time - $t0);
    my $took = wait_for($left > 0 ? $left : 0.01, sub { send_route($r)->code == $r->[4] });
    t_debug("$r->[0]: " . (defined $took ? sprintf('%.2fs', $took) : 'not recovered'));
    ok defined $took;
}
ok t_cmp(httpd_pid(), $pid, 'the same httpd, not restarted');

# Nothing that got a 503 was written.
my %after = map { $_ => get_task($down_tasks->{$_}{id}) } keys %$down_tasks;
ok t_cmp(\%after, \%before, 'the tasks written to while down are unchanged');
my $found = data(req(GET => '/api/v1/tasks?q=created+down', token => $tok)) || {};
ok t_cmp($found->{total}, 0, 'no task created while down');
ok t_cmp((data(req(GET => '/api/v1/tasks?limit=1&q=created+up', token => $tok)) || {})->{total},
         1, 'the create recovered exactly once');

# No 5xx on any pooled connection, reads and writes alike.
for my $w (1 .. WAVES) {
    ok t_cmp([wave("after restart $w")], [], "wave $w after the restart");
}

# -------------------------------------------- restart while the server idles
# Every pooled connection is alive and idle; PostgreSQL goes away and
# comes back while no request is made, so the first statement on each
# connection finds its session gone.
wave('before the idle restart');
db_stop();
sleep 1;          # down for a moment, as in a real restart
db_start();
for my $w (1 .. WAVES) {
    ok t_cmp([wave("after the idle restart $w")], [], "wave $w after the idle restart");
}
ok t_cmp(httpd_pid(), $pid, 'still the same httpd');
