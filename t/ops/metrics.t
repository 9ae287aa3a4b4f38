# Metrics (docs/operations.md, "Metrics"): under each MPM (event, worker,
# prefork), an Apache of this suite's own, whose children exit after
# three connections, serves a known sequence of requests spread over
# several children.  The counters scraped from "SetHandler todo-metrics"
# then equal that sequence exactly, the children that exited included;
# the histogram's buckets are cumulative and its _count equals the
# request counter; promtool (Prometheus' own parser) accepts the text; no
# label holds a user id; Require refuses an address it does not list;
# the process gauge counts the running children; mod_status' page and its
# ?auto form show the same figures; and a graceful restart keeps the
# counts.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use HTTP::Request;
use LWP::UserAgent;
use Time::HiRes qw(sleep time);
use TodoTest qw(:DEFAULT own_httpd promtool_check);

my @MPMS = qw(event worker prefork);
plan tests => 16 * @MPMS;

my $secret_file = env_of('TODO_SECRET_FILE');
my $user = new_user('metrics');
my $tok = token($user);
my $expired = token($user, iat => int(time) - 7200, exp => int(time) - 3600);

sub mpm_conf {
    my ($mpm) = @_;
    return $mpm eq 'prefork' ? <<'CONF' : <<'CONF';
StartServers 3
MinSpareServers 2
MaxSpareServers 4
ServerLimit 8
MaxRequestWorkers 8
MaxConnectionsPerChild 3
DBDMin 0
CONF
StartServers 2
ServerLimit 6
ThreadLimit 4
ThreadsPerChild 4
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 16
MaxConnectionsPerChild 3
DBDMin 0
DBDKeep 1
DBDMax 2
CONF
}

my $LOCATIONS = <<"CONF";
KeepAlive Off
<Location /api>
    SetHandler todo
    Require all granted
    TodoJWTAlgorithms HS256
    TodoJWTSecretFile $secret_file
</Location>
<Location /metrics>
    SetHandler todo-metrics
    Require ip 127.0.0.1
</Location>
# The same handler, for an address the test does not have.
<Location /metrics-denied>
    SetHandler todo-metrics
    Require ip 192.0.2.1
</Location>
<Location /server-status>
    SetHandler server-status
    Require ip 127.0.0.1
</Location>
CONF

# Each request on a connection of its own, so that children exit.
my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 30);

sub send_req {
    my ($h, $method, $path, %o) = @_;
    my $r = HTTP::Request->new($method => $h->{url}->($path));
    $r->header(Authorization => "Bearer $o{token}") if defined $o{token};
    $r->header('Idempotency-Key' => qq("$o{key}")) if defined $o{key};
    if ($o{json}) {
        $r->content($JSON->encode($o{json}));
        $r->header('Content-Type' => 'application/json');
    }
    return $ua->request($r);
}

# The sequence: [method, path, token, body, route, status, and for a
# keyed write the key (made one of each MPM's run)].
my @SEQ = (
    (map { [GET => '/api/v1/tasks', $tok, undef, 'list', 200] } 1 .. 8),
    (map { [POST => '/api/v1/tasks', $tok, { title => "m$_" }, 'create', 201] } 1 .. 4),
    (map { [GET => '/api/v1/tasks', undef, undef, 'list', 401] } 1 .. 3),
    (map { [GET => '/api/v1/tasks', $expired, undef, 'list', 401] } 1 .. 2),
    (map { [GET => '/api/nope', undef, undef, 'not_found', 404] } 1 .. 2),
    (map { [DELETE => '/api/health', undef, undef, 'not_allowed', 405] } 1 .. 2),
    (map { [HEAD => '/api/health', undef, undef, 'health', 200] } 1 .. 2),
    [OPTIONS => '/api/v1/tasks', undef, undef, 'options', 204],
    (map { [GET => '/api/v1/tasks/not-a-uuid', $tok, undef, 'get', 422] } 1 .. 2),
    # The second is answered from the first's stored answer (a replay).
    (map { [POST => '/api/v1/tasks', $tok, { title => 'keyed' }, 'create', 201, 'k'] } 1 .. 2),
);
my $WITH_TOKEN = grep { defined $_->[2] } @SEQ;

sub class_of { int($_[0] / 100) . 'xx' }

# Samples of an exposition text (or of mod_status' lines, with ": "):
# [name, {labels}, value].
sub samples {
    my ($text, $sep) = @_;
    my @s;
    for my $line (split /\n/, $text) {
        next if $line =~ /^#/ || $line !~ /^todo_/;
        my ($name, $labels, $v) = $line =~ /^(\w+)(?:\{(.*)\})?$sep(\S+)$/
            or die "cannot read: $line";
        my %l = ($labels // '') =~ /(\w+)="([^"]*)"/g;
        push @s, [$name, \%l, $v];
    }
    return @s;
}

sub requests_of {
    my %m;
    for (grep { $_->[0] eq 'todo_http_requests_total' } @_) {
        $m{"$_->[1]{route} $_->[1]{method} $_->[1]{code_class}"} = $_->[2];
    }
    return \%m;
}

sub value_of {
    my ($samples, $name, %labels) = @_;
    for my $s (@$samples) {
        next unless $s->[0] eq $name;
        next if grep { ($s->[1]{$_} // '') ne $labels{$_} } keys %labels;
        return $s->[2];
    }
    return undef;
}

sub scrape {
    my ($h) = @_;
    my $res = $ua->get($h->{url}->('/metrics'));
    die 'scrape: ' . $res->status_line unless $res->code == 200;
    return $res->decoded_content;
}

for my $mpm (@MPMS) {
    my $h = own_httpd(mpm => $mpm, conf => mpm_conf($mpm) . $LOCATIONS,
                      modules => [qw(authz_host status)], ready => "/metrics");

    my %want;
    for my $r (@SEQ) {
        my ($method, $path, $t, $body, $route, $status, $key) = @$r;
        my $res = send_req($h, $method, $path,
                           (defined $t ? (token => $t) : ()),
                           ($body ? (json => $body) : ()),
                           (defined $key ? (key => "$key-$mpm") : ()));
        t_debug("$mpm $method $path: " . $res->status_line)
            unless $res->code == $status;
        $want{"$route $method " . class_of($res->code)}++;
    }

    # Served by several children, some of which have exited since.
    my %pids;
    wait_for(5, sub {
        open my $log, '<', $h->{access_log} or return 0;
        %pids = ();
        while (<$log>) {
            my ($pid, undef, undef, $uri) = split;
            $pids{$pid}++ if $uri =~ m{^/api};
        }
        return sum_of(values %pids) == @SEQ;
    });
    my @gone = grep { !kill 0, $_ } keys %pids;
    t_debug("$mpm: children " . join(' ', map { "$_($pids{$_})" } sort keys %pids)
            . '; exited: ' . join(' ', @gone));
    ok t_cmp(scalar(keys %pids) >= 4, 1, "$mpm: the requests were spread over children");
    ok t_cmp(scalar(@gone) >= 1, 1, "$mpm: some of them exited before the scrape");

    # The counters equal the sequence (the counts of a request land once
    # its answer is sent: wait for the last ones).
    my ($text, @s);
    wait_for(10, sub {
        $text = scrape($h);
        @s = samples($text, ' ');
        return join(',', map { "$_=" . (requests_of(@s)->{$_} // 0) } sort keys %want)
            eq join(',', map { "$_=$want{$_}" } sort keys %want);
    });
    ok t_cmp(requests_of(@s), \%want, "$mpm: todo_http_requests_total equals the sequence");

    # The histogram: cumulative buckets, +Inf = _count = the requests.
    my $hist_ok = 1;
    my %per_route;
    $per_route{(split / /, $_)[0]} += $want{$_} for keys %want;
    for my $route (sort keys %per_route) {
        my @b = map { [$_->[1]{le}, $_->[2]] }
            grep { $_->[0] eq 'todo_http_request_duration_seconds_bucket'
                   && $_->[1]{route} eq $route } @s;
        my $count = value_of(\@s, 'todo_http_request_duration_seconds_count', route => $route) // -1;
        my $sum = value_of(\@s, 'todo_http_request_duration_seconds_sum', route => $route) // -1;
        my @v = map { $_->[1] } @b;
        my $mono = !grep { $v[$_] < $v[$_ - 1] } 1 .. $#v;
        my $ok = @b == 15 && $b[-1][0] eq '+Inf' && $mono && $b[-1][1] == $count
            && $count == $per_route{$route} && $sum > 0;
        t_debug("$mpm $route: buckets @v, count $count, sum $sum, requests $per_route{$route}")
            unless $ok;
        $hist_ok &&= $ok;
    }
    ok t_cmp($hist_ok, 1, "$mpm: cumulative buckets, _count = requests, per route");

    my %auth = map { $_->[1]{reason} => $_->[2] }
        grep { $_->[0] eq 'todo_auth_failures_total' } @s;
    ok t_cmp(\%auth, { missing => 3, expired => 2, malformed => 0, algorithm => 0,
                       signature => 0, claims => 0, keys_unavailable => 0, other => 0 },
             "$mpm: authentication failures by reason");
    ok t_cmp(value_of(\@s, 'todo_idempotent_replays_total'), 1,
             "$mpm: the keyed create sent twice counts one replay");
    ok t_cmp(value_of(\@s, 'todo_token_cache_hits_total')
             + value_of(\@s, 'todo_token_cache_misses_total'),
             $WITH_TOKEN, "$mpm: one token-cache lookup per request with a token");

    my ($rc, $out) = promtool_check($text);
    t_debug("promtool: $out");
    ok t_cmp($rc, 0, "$mpm: promtool check metrics accepts the text");

    # No label holds the user (or anything but the fixed label values).
    my @labels = map { values %{ $_->[1] } } @s;
    my @odd = grep { !/^[a-z_]+$|^[A-Z]+$|^\dxx$|^[0-9.]+$|^\+Inf$/ || $_ eq $user } @labels;
    ok t_cmp([@odd, ($text =~ /\Q$user\E/ ? ('user in the text') : ())], [],
             "$mpm: no user id in any label");

    ok t_cmp($ua->get($h->{url}->('/metrics-denied'))->code, 403,
             "$mpm: Require refuses an address it does not list");

    # The process gauge: the children running now.
    my ($procs, @kids);
    wait_for(10, sub {
        @kids = $h->{children}->();
        $procs = value_of([samples(scrape($h), ' ')], 'todo_processes');
        return $procs == @kids;
    });
    ok t_cmp($procs, scalar @kids, "$mpm: todo_processes = the running children");

    # mod_status: the same figures, in ?auto and in the page.
    my $auto = $ua->get($h->{url}->('/server-status?auto'))->decoded_content;
    my @a = samples($auto, ': ');
    ok t_cmp(requests_of(@a), \%want, "$mpm: server-status?auto has the request counts");
    ok t_cmp(value_of(\@a, 'todo_auth_failures_total', reason => 'expired'), 2,
             "$mpm: and the other counters");
    my $page = $ua->get($h->{url}->('/server-status'))->decoded_content;
    ok t_cmp($page, qr{<h2>mod_todo</h2>.*todo_http_requests_total\{route=&quot;list&quot;,method=&quot;GET&quot;,code_class=&quot;2xx&quot;\}: 8}s,
             "$mpm: server-status shows them");

    # A graceful restart keeps the counts.
    my $started = value_of(\@s, 'todo_metrics_start_time_seconds');
    my $ppid = $h->{pid}->();
    $h->{graceful}->();
    wait_for(10, sub { send_req($h, GET => '/api/health')->code == 200 });
    send_req($h, GET => '/api/v1/tasks', token => $tok) for 1 .. 3;
    my $after;
    wait_for(10, sub {
        $after = [samples(scrape($h), ' ')];
        return (value_of($after, 'todo_http_requests_total', route => 'list',
                         method => 'GET', code_class => '2xx') // 0) == 11;
    });
    ok t_cmp(value_of($after, 'todo_http_requests_total', route => 'list',
                      method => 'GET', code_class => '2xx'),
             11, "$mpm: after a graceful restart the counts go on");
    ok t_cmp([value_of($after, 'todo_metrics_start_time_seconds'), $h->{pid}->()],
             [$started, $ppid], "$mpm: from the same start, in the same Apache");
    $h->{stop}->();
}

sub sum_of { my $s = 0; $s += $_ for @_; $s }
