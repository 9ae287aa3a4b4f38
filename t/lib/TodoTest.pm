package TodoTest;
# Helpers shared by mod_todo's Apache::Test suites: HTTP requests with JSON
# bodies, token minting, envelope checks and control of the private
# PostgreSQL cluster the test command started.
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use Apache::Test;
use Apache::TestRequest ();
use Apache::TestUtil ();
use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512);
use File::Temp ();
use HTTP::Request;
use HTTP::Response;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use LWP::UserAgent;
use MIME::Base64 qw(encode_base64url decode_base64url);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(api req token hs_token signed_token b64u json_ok
                 envelope_ok error_ok env_of secret pg_stop pg_start
                 wait_for new_user create_task $JSON);
# Opt-in helpers, imported by name so they cannot clash with a suite's own
# subs: the test server's log files, second-aligned clocks, base64url
# decoding; SQL as the cluster owner, raw (and concurrent) HTTP, the
# server's pid, the fields named in an error's details.
our @EXPORT_OK = qw(log_path log_text second_start b64u_decode
                    pg_sql pg_quote raw_request raw_exchange httpd_pid
                    error_fields apache_configtest db_psql db_sqitch
                    own_httpd promtool_check
                    db_connect pg_pid pg_kill9 graceful_restart
                    ok_or_show);

our $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

sub env_of {
    my $name = shift;
    my $v = $ENV{$name};
    die "$name is not set: run the suite through scripts/test.sh\n"
        unless defined $v && length $v;
    return $v;
}

my $ua;
sub ua {
    $ua ||= do {
        my $u = LWP::UserAgent->new(keep_alive => 4, timeout => 30);
        $u->default_header('Accept' => 'application/json');
        $u;
    };
    return $ua;
}

sub api { Apache::TestRequest::resolve_url($_[0]) }

# req(METHOD, PATH, token => T, json => DATA | body => RAW,
#     type => CONTENT_TYPE, headers => {...})
sub req {
    my ($method, $path, %o) = @_;
    my $r = HTTP::Request->new($method => api($path));
    $r->header(Authorization => "Bearer $o{token}") if defined $o{token};
    if (exists $o{json}) {
        $r->content($JSON->encode($o{json}));
        $r->header('Content-Type' => $o{type} // 'application/json');
    }
    elsif (defined $o{body}) {
        $r->content($o{body});
        $r->header('Content-Type' => $o{type}) if defined $o{type};
    }
    $r->header('Content-Length' => length($r->content // ''))
        if defined $r->content && length $r->content;
    my $h = $o{headers} || {};
    $r->header($_ => $h->{$_}) for keys %$h;
    return ua()->request($r);
}

sub b64u { encode_base64url($_[0]) }
sub b64u_decode { decode_base64url($_[0]) }

sub secret {
    my $f = env_of('TODO_SECRET_FILE');
    open my $fh, '<:raw', $f or die "$f: $!";
    local $/;
    my $s = <$fh>;
    $s =~ s/\r?\n\z//;
    return $s;
}

# An HS* token from raw header and payload (hashes or JSON text).
sub hs_token {
    my ($header, $payload, %o) = @_;
    my $h = ref $header ? $JSON->encode($header) : $header;
    my $p = ref $payload ? $JSON->encode($payload) : $payload;
    my $alg = $o{alg} // 'HS256';
    my $key = $o{secret} // secret();
    my $data = b64u($h) . '.' . b64u($p);
    my %f = (HS256 => \&hmac_sha256, HS384 => \&hmac_sha384,
             HS512 => \&hmac_sha512);
    return "$data." . b64u($f{$alg}->($data, $key));
}

# A valid HS256 token for user $sub (claims can be added or overridden).
sub token {
    my ($sub, %claims) = @_;
    my $now = time;
    my %c = (sub => $sub, iat => int($now), exp => int($now) + 3600, %claims);
    delete $c{$_} for grep { !defined $c{$_} } keys %c;
    return hs_token({ alg => 'HS256', typ => 'JWT' }, \%c);
}

# A token signed with a private key (or a secret file) by jwt-sign.
sub signed_token {
    my (%o) = @_;
    my @cmd = (env_of('TODO_JWT_SIGN'), '--alg', $o{alg},
               ($o{key} ? ('--key', $o{key}) : ('--secret-file', $o{secret_file})),
               '--header', (ref $o{header} ? $JSON->encode($o{header}) : $o{header}),
               '--payload', (ref $o{payload} ? $JSON->encode($o{payload}) : $o{payload}));
    open my $fh, '-|', @cmd or die "jwt-sign: $!";
    my $t = <$fh>;
    close $fh or die "jwt-sign failed (@cmd)";
    chomp $t;
    return $t;
}

sub json_ok {
    my ($res) = @_;
    my $ct = $res->header('Content-Type') // '';
    return undef unless $ct =~ m{^application/json\b};
    my $d = eval { $JSON->decode($res->decoded_content // $res->content) };
    return $d;
}

# The envelope of docs/api.md §6, whatever the status.
sub envelope_ok {
    my ($res) = @_;
    my $d = json_ok($res) or return 0;
    return 0 unless ref $d eq 'HASH';
    return 0 unless join(',', sort keys %$d) eq 'data,error,meta';
    my $m = $d->{meta};
    return 0 unless ref $m eq 'HASH' && $m->{request_id} && $m->{timestamp};
    return 0 unless $m->{timestamp} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
    return 0 unless ($res->header('X-Request-Id') // '') eq $m->{request_id};
    return 1;
}

# An error envelope with this status and code.
sub error_ok {
    my ($res, $status, $code) = @_;
    return 0 unless $res->code == $status && envelope_ok($res);
    my $d = json_ok($res);
    return 0 if defined $d->{data};
    return 0 unless ref $d->{error} eq 'HASH' && ($d->{error}{code} // '') eq $code;
    return 0 unless length($d->{error}{message} // '');
    return 1;
}

# ------------------------------------------------------- server logs
# A file of the test server's t/logs/ (error_log, todo_access.log).
sub log_path { Apache::Test::vars('serverroot') . '/logs/' . $_[0] }

# The whole text of one of those files.
sub log_text {
    my $f = log_path($_[0]);
    open my $fh, '<:raw', $f or die "$f: $!";
    local $/;
    return scalar(<$fh>) // '';
}

# Wait until the clock is early in a second (fraction <= $max, default
# 0.3) and return that second: a token minted now for a boundary test
# (exp = now + 1 ...) is then checked within the same second by the server.
sub second_start {
    my $max = shift // 0.3;
    sleep 0.01 while time - int(time) > $max;
    return int(time);
}

# apache_configtest(DIR, MODULE_SO, TEXT): "apache2 -t" on a minimal
# configuration in DIR (our modules, mod_dbd with the pgsql driver) plus
# TEXT.  Returns (exit status, output).
sub apache_configtest {
    my ($dir, $so, $text) = @_;
    my $conf = "$dir/httpd.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh <<"CONF";
ServerRoot $dir
ServerName localhost
PidFile $dir/httpd.pid
ErrorLog $dir/error.log
Listen 127.0.0.1:1
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule todo_module $so
DBDriver pgsql
$text
CONF
    close $fh;
    my $httpd = $ENV{TODO_HTTPD} || "/usr/sbin/apache2";
    my $out = `$httpd -t -f $conf 2>&1`;
    return ($? >> 8, $out);
}

# own_httpd(mpm => event|worker|prefork, conf => TEXT, modules => [NAMES],
#           dbd => DBDPARAMS, ready => PATH): an Apache of a suite's own,
# in a temporary directory, for what the shared test server cannot be
# made to do (a fixed number of children, a given MPM, children that
# exit, mod_status, its own error log).  Loads the MPM, authz_core,
# mod_dbd and mod_todo, plus mod_NAME for each of `modules`; `conf` is
# the rest (locations, MPM sizing).  Started with -k start; returns once
# `ready` answers (any status but a refused connection), and is stopped
# by its `stop` method or at the latest when the suite ends.  Returns a
# hash: port, dir, conf (the file), error_log, access_log (format "%P
# %>s %m %U": the child's pid first), url(PATH), graceful(), stop(),
# pid() (the parent's), children() (their pids).
my @own_httpds;
sub own_httpd {
    my (%o) = @_;
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    mkdir "$dir/logs" or die "$dir/logs: $!";
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    my $mpm = $o{mpm} // 'event';
    my $so = env_of('TODO_MODULE_SO');
    my $mods = '/usr/lib/apache2/modules';
    my $load = join '', map { "LoadModule ${_}_module $mods/mod_$_.so\n" }
        @{ $o{modules} || [] };
    my $dbd = $o{dbd} // env_of('TODO_DBD_PARAMS');
    my %h = (port => $port, dir => $dir, conf => "$dir/httpd.conf",
             error_log => "$dir/logs/error_log",
             access_log => "$dir/logs/access_log");
    open my $fh, '>', $h{conf} or die "$h{conf}: $!";
    print $fh <<"CONF";
ServerRoot $dir
ServerName 127.0.0.1
PidFile $dir/httpd.pid
DefaultRuntimeDir $dir/logs
ErrorLog $h{error_log}
ErrorLogFormat "[%{cu}t] [%-m:%l] [pid %P:tid %T] [req %L] %M"
LogLevel warn todo:notice
Listen 127.0.0.1:$port
LoadModule mpm_${mpm}_module $mods/mod_mpm_$mpm.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dbd_module $mods/mod_dbd.so
$load
LoadModule todo_module $so
LogFormat "%P %>s %m %U" pids
CustomLog $h{access_log} pids
DBDriver pgsql
DBDParams "$dbd"
$o{conf}
CONF
    close $fh;
    my $httpd = $ENV{TODO_HTTPD} || '/usr/sbin/apache2';
    my $cmd = "$httpd -f $h{conf}";
    my $out = `$cmd -k start 2>&1`;
    die "own httpd did not start: $out" if $?;
    push @own_httpds, \%h;
    $h{cmd} = $cmd;
    $h{url} = sub { "http://127.0.0.1:$port$_[0]" };
    $h{pid} = sub {
        open my $p, '<', "$dir/httpd.pid" or return undef;
        my $pid = <$p>;
        chomp $pid if defined $pid;
        return $pid;
    };
    $h{children} = sub {
        my $pid = $h{pid}->() or return ();
        return grep { /^\d+$/ } map { s/\s+//gr } `ps -o pid= --ppid $pid`;
    };
    $h{graceful} = sub {
        system("$cmd -k graceful >/dev/null 2>&1") == 0
            or die "graceful restart failed";
    };
    $h{stop} = sub {
        return unless $h{started};
        $h{started} = 0;
        my $t0 = time;
        sleep 0.1 while !-f "$dir/httpd.pid" && time - $t0 < 10;
        system("$cmd -k stop >/dev/null 2>&1");
        $t0 = time;
        sleep 0.1 while -f "$dir/httpd.pid" && time - $t0 < 20;
    };
    $h{started} = 1;
    my $ua = LWP::UserAgent->new(timeout => 5);
    my $ready = $o{ready} // '/api/health';
    # LWP answers a refused connection itself, as an "Internal response".
    wait_for(20, sub {
        my $r = $ua->get($h{url}->($ready));
        ($r->header('Client-Warning') // '') ne 'Internal response' })
        or die "own httpd does not answer $ready";
    wait_for(10, sub { -f "$dir/httpd.pid" }) or die "no pid file";
    return \%h;
}
END { local $?; $_->{stop}->() for @own_httpds }

# promtool_check(TEXT): Prometheus' own parser and linter on an
# exposition text (promtool from Debian's prometheus package).  Returns
# (exit status, output).
sub promtool_check {
    my ($text) = @_;
    my $tmp = File::Temp->new(SUFFIX => '.prom');
    print $tmp $text;
    close $tmp;
    my $out = `promtool check metrics < @{[$tmp->filename]} 2>&1`;
    return ($? >> 8, $out);
}

# ---------------------------------------------------------- PostgreSQL
sub pg_ctl {
    my @args = @_;
    my $bin = env_of('TODO_PG_BIN');
    my $dir = env_of('TODO_PG_DIR');
    # The locales scripts/lib.sh compiled for this cluster (pg_locale).
    local $ENV{LOCPATH} = "$dir/locale" if -d "$dir/locale";
    system("$bin/pg_ctl", '-D', "$dir/data", '-l', "$dir/postgres.log",
           '-w', '-t', '60', @args) == 0 or die "pg_ctl @args failed";
}
sub pg_stop  { pg_ctl('-m', 'fast', 'stop') }
sub pg_start { pg_ctl('-o', '-p ' . env_of('TODO_PG_PORT'), 'start') }

# The postmaster's pid (the first line of its pid file).
sub pg_pid {
    my $f = env_of('TODO_PG_DIR') . '/data/postmaster.pid';
    open my $fh, '<', $f or die "$f: $!";
    my $pid = <$fh>;
    chomp $pid;
    return $pid;
}

# A crash: SIGKILL to the postmaster, then wait until every backend has
# noticed and gone (they exit once they see the postmaster dead), so that
# pg_start can bring the cluster back (crash recovery) instead of finding
# its shared memory still in use.
sub pg_kill9 {
    my $pid = pg_pid();
    kill 'KILL', $pid or die "kill -9 $pid: $!";
    my $dir = env_of('TODO_PG_DIR') . '/data';
    wait_for(30, sub {
        !kill(0, $pid) && !grep { m{^\d+$} && backend_of($_, $dir) }
                             do { opendir my $d, '/proc'; readdir $d };
    }) or die "the postmaster's backends did not exit";
}
sub backend_of {
    my ($pid, $dir) = @_;
    open my $fh, '<', "/proc/$pid/cmdline" or return 0;
    local $/;
    my $cmd = <$fh> // '';
    return $cmd =~ /^postgres: / && -l "/proc/$pid/cwd"
        && (readlink("/proc/$pid/cwd") // '') eq $dir;
}

# A database session of its own, as the cluster's owner (DBI with
# DBD::Pg, which sqitch needs anyway): for transactions a test holds open
# across requests.  RaiseError: a failing statement fails the test.
sub db_connect {
    require DBI;
    my $dsn = sprintf 'dbi:Pg:dbname=%s;host=%s;port=%s', env_of('TODO_DB'),
        env_of('TODO_PG_DIR'), env_of('TODO_PG_PORT');
    return DBI->connect($dsn, env_of('TODO_USER_NAME'), '',
                        { RaiseError => 1, PrintError => 0, AutoCommit => 1 })
        || die "connect: $DBI::errstr";
}

# For the schema suites, which work in databases of their own: run one SQL
# text in database DB as the cluster's owner, or sqitch (from the source
# tree's sql/) against DB; each returns (exit status, output).
sub db_psql {
    my ($db, $sql) = @_;
    my ($dir, $port) = (env_of('TODO_PG_DIR'), env_of('TODO_PG_PORT'));
    my $out = `psql -X -q -At -v ON_ERROR_STOP=1 -h '$dir' -p $port -d $db -c "$sql" 2>&1`;
    chomp $out;
    return ($? >> 8, $out);
}
sub db_sqitch {
    my ($db, @args) = @_;
    my $target = sprintf 'db:pg://%s@/%s?host=%s&port=%s', env_of('TODO_USER_NAME'),
        $db, env_of('TODO_PG_DIR'), env_of('TODO_PG_PORT');
    my $out = `cd '@{[env_of('TODO_SRC')]}/sql' && sqitch @args '$target' 2>&1`;
    return ($? >> 8, $out);
}

# Poll $code until it returns true or $secs pass; returns the elapsed time
# or undef on timeout.
sub wait_for {
    my ($secs, $code) = @_;
    my $t0 = time;
    while (time - $t0 < $secs) {
        return time - $t0 if $code->();
        sleep 0.1;
    }
    return undef;
}

# ok(t_cmp(...)) that, when it fails, also prints what was received and
# the given context on STDERR: the harness hides a test's comments unless
# it runs verbose, and a failure seen only in CI must explain itself.
sub ok_or_show {
    my ($got, $expected, $name, @context) = @_;
    return 1 if Apache::Test::ok(Apache::TestUtil::t_cmp($got, $expected, $name));
    my $show = ref $got eq 'ARRAY' ? join("\n", @$got) : $got // 'undef';
    print STDERR map { "# $_\n" } "failed: $name", "received: $show",
        map { split /\n/ } @context;
    return 0;
}

my $seq = 0;
sub new_user { sprintf '%s-%d-%d-%d', ($_[0] // 'user'), $$, int(time), ++$seq }

sub create_task {
    my ($tok, %task) = @_;
    my $res = req(POST => '/api/v1/tasks', token => $tok,
                  json => { title => 'task', %task });
    die 'create failed: ' . $res->status_line . ' ' . $res->content
        unless $res->code == 201;
    return json_ok($res)->{data};
}

# The "field" of every error.details entry of an error response.
sub error_fields {
    my ($res) = @_;
    my $d = json_ok($res) or return ();
    my $det = ref $d->{error} eq 'HASH' ? $d->{error}{details} : undef;
    return () unless ref $det eq 'ARRAY';
    return map { $_->{field} // '' } @$det;
}

# ------------------------------------------------------ SQL as the owner
# Run SQL in the test database as the cluster's owner (over the private
# socket) and return psql's unaligned, tuples-only output (UTF-8 bytes).
# Text with wide characters is sent as UTF-8.  Dies on any SQL error, so
# a test built on it fails instead of running on bad data.
sub pg_sql {
    my ($sql) = @_;
    my $tmp = File::Temp->new(SUFFIX => '.sql');
    binmode $tmp, ':raw';
    utf8::encode($sql) if utf8::is_utf8($sql);
    print $tmp $sql;
    close $tmp;
    my @cmd = ('psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
               '-h', env_of('TODO_PG_DIR'), '-p', env_of('TODO_PG_PORT'),
               '-d', env_of('TODO_DB'), '-f', $tmp->filename);
    open my $fh, '-|', @cmd or die "psql: $!";
    binmode $fh, ':raw';
    local $/;
    my $out = <$fh> // '';
    close $fh or die "psql failed (exit " . ($? >> 8) . ")\n";
    $out =~ s/\n\z//;
    return $out;
}

# A string as an SQL literal (standard_conforming_strings is on).
sub pg_quote {
    my ($s) = @_;
    return 'NULL' unless defined $s;
    $s =~ s/'/''/g;
    return "'$s'";
}

# ------------------------------------------------------------ raw HTTP
# The text of one HTTP/1.1 request, for what LWP will not send (chunked
# bodies, lying Content-Length) and for really concurrent requests.
#   raw_request(METHOD, PATH, token => T, json => DATA | body => BYTES,
#               type => CT, headers => [NAME => VALUE, ...],
#               chunked => CHUNK_SIZE, length => CONTENT_LENGTH)
sub raw_request {
    my ($method, $path, %o) = @_;
    my $body = exists $o{json} ? $JSON->encode($o{json}) : $o{body};
    my $type = $o{type} // (exists $o{json} ? 'application/json' : undef);
    my @h = ('Host: ' . Apache::TestRequest::hostport(),
             'Connection: close', 'Accept: application/json');
    push @h, "Authorization: Bearer $o{token}" if defined $o{token};
    push @h, "Content-Type: $type" if defined $type;
    my @extra = @{ $o{headers} || [] };
    while (my ($k, $v) = splice @extra, 0, 2) {
        push @h, "$k: $v";
    }
    my $payload = '';
    if (defined $body && $o{chunked}) {
        push @h, 'Transfer-Encoding: chunked';
        for (my $i = 0; $i < length $body; $i += $o{chunked}) {
            my $c = substr $body, $i, $o{chunked};
            $payload .= sprintf("%x\r\n", length $c) . $c . "\r\n";
        }
        $payload .= "0\r\n\r\n";
    }
    elsif (defined $body) {
        push @h, 'Content-Length: ' . ($o{length} // length $body);
        $payload = $body;
    }
    return "$method $path HTTP/1.1\r\n" . join('', map { "$_\r\n" } @h)
        . "\r\n" . $payload;
}

# Send several raw requests at once, each on its own connection: every
# request but its last byte goes out first, then the last bytes back to
# back, so the server works on all of them at the same time.  Returns the
# HTTP::Response objects in order; a connection that fails or does not
# answer within `timeout` seconds yields a response with code 599, so the
# caller's assertions fail rather than hang.
sub raw_exchange {
    my ($texts, %o) = @_;
    my $timeout = $o{timeout} // 30;
    my ($host, $port) = split /:/, Apache::TestRequest::hostport();
    my (@socks, @resp);
    for my $t (@$texts) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp',
                                      Timeout => $timeout);
        if ($s) {
            binmode $s;
            $s->autoflush(1);
            syswrite_all($s, substr($t, 0, length($t) - 1)) or undef $s;
        }
        push @socks, $s;
    }
    for my $i (0 .. $#socks) {
        next unless $socks[$i];
        syswrite_all($socks[$i], substr($texts->[$i], -1)) or undef $socks[$i];
    }
    my @raw = map { $_ ? '' : undef } @socks;
    my %open = map { $_ => 1 } grep { $socks[$_] } 0 .. $#socks;
    my $sel = IO::Select->new(map { $socks[$_] } keys %open);
    my $deadline = time + $timeout;
    while (%open && time < $deadline) {
        for my $s ($sel->can_read($deadline - time)) {
            my ($i) = grep { $open{$_} && $socks[$_] == $s } keys %open;
            my $n = sysread $s, my $buf, 65536;
            if ($n) {
                $raw[$i] .= $buf;
                next;
            }
            $sel->remove($s);
            close $s;
            delete $open{$i};
        }
    }
    close $socks[$_] for keys %open;
    for my $i (0 .. $#socks) {
        my $r = defined $raw[$i] && !$open{$i} && length $raw[$i]
            ? HTTP::Response->parse($raw[$i]) : undef;
        $r = HTTP::Response->new(599, 'no answer') unless $r && $r->code;
        push @resp, $r;
    }
    return @resp;
}

sub syswrite_all {
    my ($s, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    while (length $data) {
        my $n = syswrite $s, $data;
        return 0 unless defined $n;
        substr($data, 0, $n) = '';
    }
    return 1;
}

# The pid in the test server's pid file (to tell it was not restarted).
sub httpd_pid {
    my $f = Apache::Test::vars('t_logs') . '/httpd.pid';
    open my $fh, '<', $f or die "$f: $!";
    my $pid = <$fh>;
    chomp $pid;
    return $pid;
}

# A graceful restart of the test server, as "apachectl -k graceful" does
# it (SIGUSR1 to the parent): children finish the requests they serve and
# go, keep-alive connections are closed, new children start.  Returns
# once the new generation answers /api/health.
sub graceful_restart {
    my $log = log_path('error_log');
    my $before = -s $log // 0;
    kill 'USR1', httpd_pid() or die "kill -USR1: $!";
    wait_for(30, sub {
        open my $fh, '<:raw', $log or return 0;
        seek $fh, $before, 0;
        local $/;
        my $new = <$fh> // '';
        return $new =~ /resuming normal operations/;
    }) or die 'no graceful restart in the error log';
    wait_for(30, sub { req(GET => '/api/health')->code == 200 })
        or die 'the server did not answer after the graceful restart';
}

1;
