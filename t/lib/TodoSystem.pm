package TodoSystem;
# Helpers for the system tests (t/system/*.t).  scripts/test.sh runs those
# as root with prove, outside Apache::Test (t/SKIP keeps t/TEST away from
# them), because each needs servers of its own: PostgreSQL clusters made
# and configured by the test (TLS-only; a pg_auto_failover formation) and
# an Apache started from a root shell the way "apachectl start" is, or as
# the unprivileged user.  Everything a test starts is registered here and
# stopped again at exit, also when the test dies or is interrupted; the
# test's work directory is removed.
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use Digest::SHA qw(hmac_sha256);
use File::Path qw(remove_tree);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64 qw(encode_base64url);
use POSIX ();
use Time::HiRes qw(time sleep);

our @EXPORT = qw(env_of user_name user_ids run_user try_user capture_user
                 spawn_user kill_group quiet low_port wait_for work_dir at_exit
                 write_file read_file pg_bin pg_initdb pg_psql pg_schema
                 pg_start pg_stop
                 httpd_conf httpd_start httpd_stop token http $JSON);

our $JSON = JSON::PP->new->utf8->canonical;

sub env_of {
    my $name = shift;
    my $v = $ENV{$name};
    die "$name is not set: run the system tests through scripts/test.sh\n"
        unless defined $v && length $v;
    return $v;
}

# ------------------------------------------------------------- cleanup
# Run at exit in reverse order of registration (servers before the
# directories they live in), once, in the process that registered them
# (never in a forked client).
my @at_exit;
my $owner = $$;
sub at_exit { push @at_exit, $_[0] }
sub run_cleanup {
    return unless $$ == $owner;
    while (my $c = pop @at_exit) {
        eval { $c->(); 1 } or warn "cleanup: $@";
    }
}
END { my $rc = $?; run_cleanup(); $? = $rc }
$SIG{INT} = $SIG{TERM} = $SIG{HUP} = sub { die "interrupted\n" };
# A reader that went away (prove stopped) must not cut the cleanup short.
$SIG{PIPE} = 'IGNORE';

# --------------------------------------------------- the unprivileged user
# The servers run as TODO_USER_NAME (initdb, postgres and pg_autoctl
# refuse root); as a normal user, as yourself.
sub user_name { env_of('TODO_USER_NAME') }
sub user_ids {
    my @pw = getpwnam(user_name()) or die 'no user ' . user_name() . "\n";
    return (uid => $pw[2], gid => $pw[3], home => $pw[7]);
}

sub user_env {
    my (%extra) = @_;
    my %u = user_ids();
    return (HOME => $u{home}, LANG => 'C.UTF-8',
            PATH => pg_bin() . ':/usr/sbin:/usr/bin:/sbin:/bin', %extra);
}

# In a forked child: become the user, with a clean environment.
sub become_user {
    my (%env) = @_;
    my %u = user_ids();
    if ($> == 0) {
        $) = "$u{gid} $u{gid}";
        $( = $u{gid};
        POSIX::setgid($u{gid});
        POSIX::setuid($u{uid}) or die "setuid: $!";
    }
    %ENV = user_env(%env);
}

# try_user({env}, CMD...): run CMD as the user; returns its exit status.
# Output goes where ours goes, or to the file opts->{log}.
sub try_user {
    my $o = ref $_[0] ? shift : {};
    my @cmd = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        eval {
            become_user(%{ $o->{env} || {} });
            chdir($o->{dir} // '/') or die "chdir: $!";
            if ($o->{log}) {
                open STDOUT, '>>', $o->{log} or die "$o->{log}: $!";
                open STDERR, '>&', \*STDOUT or die;
            }
            open STDIN, '<', '/dev/null';
            exec @cmd or die "exec $cmd[0]: $!";
        };
        print STDERR $@;
        POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return $? >> 8;
}

sub run_user {
    my $rc = try_user(@_);
    my @cmd = ref $_[0] ? @_[1 .. $#_] : @_;
    die "failed ($rc): @cmd\n" if $rc;
}

# capture_user({env}, CMD...): CMD's output (stdout and stderr) as the
# user; dies when it fails unless opts->{ok_fail}.
sub capture_user {
    my $o = ref $_[0] ? shift : {};
    my @cmd = @_;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        eval {
            become_user(%{ $o->{env} || {} });
            chdir($o->{dir} // '/') or die "chdir: $!";
            open STDOUT, '>&', $w or die;
            open STDERR, '>&', $w or die;
            open STDIN, '<', '/dev/null';
            exec @cmd or die "exec $cmd[0]: $!";
        };
        print STDERR $@;
        POSIX::_exit(127);
    }
    close $w;
    local $/;
    my $out = <$r> // '';
    close $r;
    waitpid $pid, 0;
    my $rc = $? >> 8;
    die "failed ($rc): @cmd\n$out" if $rc && !$o->{ok_fail};
    return wantarray ? ($rc, $out) : $out;
}

# spawn_user({env, log}, CMD...): start CMD as the user in the background,
# in a session (and process group) of its own; returns its pid, which is
# also the group's id.  Registered to be stopped at exit.
sub spawn_user {
    my $o = ref $_[0] ? shift : {};
    my @cmd = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        eval {
            POSIX::setsid();
            become_user(%{ $o->{env} || {} });
            chdir($o->{dir} // '/') or die "chdir: $!";
            open STDOUT, '>>', $o->{log} or die "$o->{log}: $!";
            open STDERR, '>&', \*STDOUT or die;
            open STDIN, '<', '/dev/null';
            exec @cmd or die "exec $cmd[0]: $!";
        };
        print STDERR $@;
        POSIX::_exit(127);
    }
    at_exit(sub { kill_group($pid) });
    return $pid;
}

# Stop a process group started by spawn_user: TERM, then KILL after
# `grace` seconds.  Reaps the leader.
sub kill_group {
    my ($pgid, $grace) = @_;
    $grace //= 15;
    kill 'TERM', -$pgid;
    my $t0 = time;
    while (time - $t0 < $grace) {
        waitpid $pgid, POSIX::WNOHANG();
        return unless kill 0, -$pgid;
        sleep 0.1;
    }
    kill 'KILL', -$pgid;
    waitpid $pgid, 0;
}

# quiet(LOG, CMD...): run CMD (as we are) with its output appended to LOG;
# dies with that output when it fails.
sub quiet {
    my ($log, @cmd) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', $log or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        open STDIN, '<', '/dev/null';
        exec @cmd or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    die "failed: @cmd\n" . read_file($log) if $?;
}

# ---------------------------------------------------------------- misc
# A free port on 127.0.0.1 below 32768 (scripts/lib.sh low_port): the
# servers here are stopped and started again.
my %handed;
sub low_port {
    for (1 .. 500) {
        my $p = 20000 + int(rand(12000));
        next if $handed{$p};
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
                                      Listen => 1, ReuseAddr => 1) or next;
        close $s;
        $handed{$p} = 1;
        return $p;
    }
    die "no free port below 32768\n";
}

# Poll $code every $step seconds (default 0.1) until it returns true or
# $secs pass; returns the elapsed time, or undef.
sub wait_for {
    my ($secs, $code, $step) = @_;
    my $t0 = time;
    while (1) {
        return time - $t0 if $code->();
        last if time - $t0 >= $secs;
        sleep($step // 0.1);
    }
    return undef;
}

# A fresh directory TODO_HOME/system/NAME owned by the user; removed at
# exit (kept when TODO_KEEP_SYSTEM is set, to look at the logs).
sub work_dir {
    my ($name) = @_;
    my $top = env_of('TODO_HOME') . '/system';
    my $dir = "$top/$name";
    my %u = user_ids();
    remove_tree($dir);
    for my $d ($top, $dir) {
        -d $d or mkdir $d or die "$d: $!";
        chown $u{uid}, $u{gid}, $d;
        chmod 0755, $d;
    }
    at_exit(sub { remove_tree($dir) unless $ENV{TODO_KEEP_SYSTEM} });
    return $dir;
}

sub write_file {
    my ($path, $text, $mode) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh or die "$path: $!";
    chmod $mode, $path if defined $mode;
    my %u = user_ids();
    chown $u{uid}, $u{gid}, $path;
}

sub read_file {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return '';
    local $/;
    return scalar(<$fh>) // '';
}

# ----------------------------------------------------------- PostgreSQL
sub pg_bin { env_of('TODO_PG_BIN') }

# pg_initdb(DIR, HBA, CONF): a cluster owned by the user in DIR, with
# HBA as its whole pg_hba.conf and CONF appended to postgresql.auto.conf
# (read last: it wins over whatever tools add to postgresql.conf).
sub pg_initdb {
    my ($dir, $hba, $conf) = @_;
    run_user({ log => "$dir.initdb.log" }, pg_bin() . '/initdb', '-D', $dir,
             '--encoding=UTF8', '--locale=C.UTF-8', '-U', user_name(),
             '--auth-local=peer', '--auth-host=reject');
    write_file("$dir/pg_hba.conf", $hba, 0600);
    open my $fh, '>>', "$dir/postgresql.auto.conf" or die $!;
    print $fh $conf;
    close $fh;
}

# Start (pg_ctl, waiting) the cluster in DIR on PORT; registered to be
# stopped at exit.
sub pg_start {
    my ($dir, $port) = @_;
    run_user({ log => "$dir.ctl.log" }, pg_bin() . '/pg_ctl', '-D', $dir, '-l', "$dir.log", '-w', '-t', '60',
             '-o', "-p $port", 'start');
    at_exit(sub { pg_stop($dir, 'immediate') });
}

sub pg_stop {
    my ($dir, $mode) = @_;
    return unless -f "$dir/postmaster.pid";
    try_user({ log => "$dir.ctl.log" }, pg_bin() . '/pg_ctl', '-D', $dir, '-w',
             '-t', '60', '-m', $mode // 'fast', 'stop');
}

# SQL as the cluster's owner over the socket in SOCKDIR; tuples only.
sub pg_psql {
    my ($sockdir, $port, $db, $sql, %o) = @_;
    my $out = capture_user({ ok_fail => $o{ok_fail} }, 'psql', '-X', '-q', '-At',
        '-v', 'ON_ERROR_STOP=1', '-h', $sockdir, '-p', $port, '-d', $db,
        '-c', $sql);
    $out =~ s/\n\z//;
    return $out;
}

# The app role with a password, the schema (sqitch, as scripts/lib.sh's
# schema_deploy) and the grants, in database DB (which exists).
sub pg_schema {
    my ($sockdir, $port, $db, $password) = @_;
    pg_psql($sockdir, $port, $db,
            "CREATE ROLE todo_app LOGIN PASSWORD '$password'");
    run_user({ dir => env_of('TODO_SRC') . '/sql' }, 'sqitch', '--quiet',
             'deploy', sprintf('db:pg://%s@/%s?host=%s&port=%d', user_name(),
                               $db, $sockdir, $port));
    pg_psql($sockdir, $port, $db,
            'GRANT SELECT, INSERT, UPDATE, DELETE ON tasks, idempotency_keys TO todo_app; '
          . 'GRANT SELECT, INSERT, UPDATE ON task_counts, tombstone_horizons TO todo_app; '
          . 'GRANT SELECT, UPDATE, DELETE ON task_tombstones TO todo_app; '
          . 'GRANT SELECT ON token_key TO todo_app');
}

# --------------------------------------------------------------- Apache
# httpd_conf(DIR, PORT, DBD_PARAMS, user => NAME): a private Apache in DIR
# (config, logs, pid) serving mod_todo at /api, like scripts/serve.sh;
# `user` adds the User/Group lines a root-started Apache needs.
sub httpd_conf {
    my ($dir, $port, $params, %o) = @_;
    mkdir "$dir/logs";
    my %u = user_ids();
    chown $u{uid}, $u{gid}, "$dir/logs";
    my $user = $o{user} ? "User $o{user}\nGroup $o{user}\n" : '';
    my $so = env_of('TODO_MODULE_SO');
    my $secret = env_of('TODO_SECRET_FILE');
    write_file("$dir/httpd.conf", <<CONF);
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
${user}ErrorLog "$dir/logs/error.log"
ErrorLogFormat "[%{cu}t] [%-m:%l] [pid %P:tid %T] %M"
LogLevel warn todo:info
LogFormat "%h %L %u %t \\"%r\\" %>s %b %D" todo
CustomLog "$dir/logs/access.log" todo
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule todo_module "$so"
StartServers 2
ServerLimit 2
# More threads per child than a test has clients (docs/operations.md,
# "Choosing the MPM"), and no child stopped for being idle.
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 8
MaxSpareThreads 64
DBDriver pgsql
DBDParams "$params"
DBDMin 2
DBDKeep 8
DBDMax 16
DBDExptime 60
<Location /api>
    SetHandler todo
    Require all granted
    TodoJWTAlgorithms HS256
    TodoJWTSecretFile "$secret"
</Location>
CONF
    return "$dir/httpd.conf";
}

# httpd_start(DIR, PORT, as_root => 1, env => {...}): start that Apache
# (as root with exactly `env`, as "apachectl start" from a root shell is;
# otherwise as the user) and wait until it answers.  Registered to be
# stopped at exit.
sub httpd_start {
    my ($dir, $port, %o) = @_;
    my $httpd = env_of('TODO_HTTPD');
    my @cmd = ($httpd, '-f', "$dir/httpd.conf", '-k', 'start');
    if ($o{as_root}) {
        die "an Apache started from a root shell needs root\n" unless $> == 0;
        my $pid = fork // die;
        if (!$pid) {
            %ENV = %{ $o{env} || {} };
            exec @cmd or POSIX::_exit(127);
        }
        waitpid $pid, 0;
        die "apache2 -k start failed\n" if $?;
    }
    else {
        run_user(@cmd);
    }
    at_exit(sub { httpd_stop($dir) });
    my $ua = HTTP::Tiny->new(timeout => 2);
    defined wait_for(30, sub { $ua->get("http://127.0.0.1:$port/api/health")->{status} != 599 })
        or die "Apache did not answer on 127.0.0.1:$port\n"
             . read_file("$dir/logs/error.log");
    chomp(my $pid = read_file("$dir/httpd.pid"));
    return $pid;
}

sub httpd_stop {
    my ($dir) = @_;
    chomp(my $pid = read_file("$dir/httpd.pid"));
    return unless $pid && kill 0, $pid;
    kill 'TERM', $pid;
    wait_for(15, sub { !kill 0, $pid }) // kill 'KILL', $pid;
}

# ---------------------------------------------------------------- HTTP
# An HS256 token for user $sub, signed with the test secret.
sub token {
    my ($sub) = @_;
    my $secret = read_file(env_of('TODO_SECRET_FILE'));
    $secret =~ s/\r?\n\z//;
    my $now = int(time);
    my $data = encode_base64url($JSON->encode({ alg => 'HS256', typ => 'JWT' }))
        . '.' . encode_base64url($JSON->encode({ sub => $sub, iat => $now,
                                                 exp => $now + 3600 }));
    return "$data." . encode_base64url(hmac_sha256($data, $secret));
}

# http(UA, METHOD, URL, TOKEN, DATA): one request with a JSON body (DATA
# undef: none); returns HTTP::Tiny's response, with `json` decoded.
sub http {
    my ($ua, $method, $url, $tok, $data, %h) = @_;
    $h{Authorization} = "Bearer $tok" if $tok;
    $h{Accept} = 'application/json';
    my %req = (headers => \%h);
    if (defined $data) {
        $h{'Content-Type'} = 'application/json';
        $req{content} = $JSON->encode($data);
    }
    my $r = $ua->request($method, $url, \%req);
    $r->{json} = eval { $JSON->decode($r->{content}) } if length($r->{content} // '');
    return $r;
}

1;
