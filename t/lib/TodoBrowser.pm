package TodoBrowser;
# Helpers of the browser suites (t/browser/*.t): their prerequisites, which
# fail -- never skip -- when Chromium, Node.js or the npm packages are
# missing; running one of t/browser's node drivers, which prints one JSON
# report of what the browser saw (the .t asserts on it); the frontend app
# of e2e.t; and the directory of their artifacts (screenshots, logs):
# t/logs/browser in the work area.
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use Apache::Test;
use Apache::TestUtil;
use JSON::PP ();
use LWP::UserAgent;
use POSIX ();
use Time::HiRes qw(sleep time);
use TodoTest qw(env_of);

our @EXPORT = qw(browser_prereqs node_driver artifacts_dir start_app
                 stop_app file_tail);

# Debian's package "chromium" (scripts/test.sh installs it).
our $CHROMIUM = '/usr/bin/chromium';
# Upper bound on one driver run, in seconds (the drivers stop themselves
# well before).
our $DRIVER_LIMIT = 240;

sub browser_dir { env_of('TODO_SRC') . '/t/browser' }

sub artifacts_dir {
    my $d = Apache::Test::vars('t_logs') . '/browser';
    -d $d or mkdir $d or die "$d: $!";
    return $d;
}

sub file_tail {
    my ($f, $n) = @_;
    open my $fh, '<', $f or return "($f: $!)";
    my @l = <$fh>;
    return join '', @l > ($n // 40) ? @l[-($n // 40) .. -1] : @l;
}

# Three assertions: Chromium runs, node runs, t/browser's npm packages
# are installed.
sub browser_prereqs {
    # (Debian's wrapper script may complain on stderr about the memory.)
    my $v = -x $CHROMIUM ? `$CHROMIUM --version 2>/dev/null` // '' : "$CHROMIUM is missing";
    chomp $v;
    ok t_cmp($v, qr/^Chromium \d+\./, "Debian's chromium ($CHROMIUM)");
    my $n = `node --version 2>&1` // '';
    chomp $n;
    ok t_cmp($n, qr/^v\d+\./, 'Node.js');
    ok t_cmp(join(' ', grep { !-d browser_dir() . "/node_modules/$_" }
                  qw(playwright-core swagger-ui-dist better-auth)),
             '', "t/browser's npm packages (npm ci)");
}

# Run t/browser/SCRIPT with --name value arguments; returns its report (a
# hash; {error => ...} when it printed none).  Its stderr goes to
# artifacts_dir()/SCRIPT.stderr.
sub node_driver {
    my ($script, %args) = @_;
    my $err = artifacts_dir() . "/$script.stderr";
    my @cmd = ('timeout', '-k', '10', $DRIVER_LIMIT, 'node',
               browser_dir() . "/$script", map { ("--$_", $args{$_}) } sort keys %args);
    t_debug("running @cmd");
    my $t0 = time;
    my $pid = open(my $fh, '-|');
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open STDERR, '>', $err or die "$err: $!";
        exec @cmd or die "exec @cmd: $!";
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    my $rc = $?;
    t_debug(sprintf '%s: exit %d after %.1f s', $script, $rc >> 8, time - $t0);
    my ($line) = grep { /^\{/ } reverse split /\n/, $out;
    my $report = eval { JSON::PP->new->utf8->decode($line // '') };
    return $report if ref $report eq 'HASH';
    return { error => "no report from $script (exit " . ($rc >> 8) . "): "
                      . substr($out, 0, 2000) . "\n" . file_tail($err) };
}

# Start t/browser/app.mjs (the frontend with Better Auth) on 127.0.0.1:PORT
# and wait until it answers; returns its pid, or dies with its log.
sub start_app {
    my (%o) = @_;
    my $log = artifacts_dir() . '/app.log';
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        POSIX::setsid();
        open STDOUT, '>', $log or die "$log: $!";
        open STDERR, '>&', \*STDOUT or die "dup: $!";
        exec 'node', browser_dir() . '/app.mjs', '--port', $o{port},
            '--api', $o{api}, '--db', $o{db}
            or die "exec node: $!";
    }
    my $ua = LWP::UserAgent->new(timeout => 2);
    my $t0 = time;
    while (time - $t0 < 60) {
        return $pid if $ua->get("http://127.0.0.1:$o{port}/")->code == 200;
        last if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.2;
    }
    stop_app($pid);
    die "the frontend app did not start on 127.0.0.1:$o{port}:\n" . file_tail($log);
}

# Stop what start_app started (its whole process group), politely first.
sub stop_app {
    my ($pid) = @_;
    return unless $pid && kill 0, $pid;
    kill 'TERM', -$pid;
    my $t0 = time;
    while (time - $t0 < 10) {
        return if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.1;
    }
    kill 'KILL', -$pid;
    waitpid $pid, 0;
}

1;
