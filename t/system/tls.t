# mod_todo over TLS to PostgreSQL, as with a managed database: a cluster
# that takes TLS connections only (hostssl lines only in pg_hba.conf), its
# certificate signed by a CA this test makes, and DBDParams asking
# sslmode=verify-full with that CA as sslrootcert.  Apache is started from
# a root shell with HOME=/root, as "sudo -i; apachectl start" does: the
# root parent reads the configuration, the children serve as the
# unprivileged user and inherit HOME=/root, which they cannot enter.
# libpq looks for a client certificate under $HOME and, unable to look,
# failed every connection ('could not open certificate file
# "/root/.postgresql/postgresql.crt": Permission denied'); the module
# gives such a child its own HOME (mod_todo_dbd.c, todo_dbd_child_init).
#
# Checked: requests succeed; every connection of the module is encrypted
# (pg_stat_ssl); a PostgreSQL restart is survived without restarting
# Apache; with the wrong CA, 503 and a log line that says why.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use HTTP::Tiny;
use Time::HiRes qw(time sleep);
use TodoSystem;

$> == 0 or BAIL_OUT('t/system/tls.t starts Apache from a root shell: run it as root');
plan tests => 16;

my $W = work_dir('tls');
my $user = user_name();

# ------------------------------------------------------------ certificates
sub ca {
    my ($name, $cn) = @_;
    quiet("$W/openssl.log", 'openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
           'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
           '-subj', "/CN=$cn", '-keyout', "$W/$name.key", '-out', "$W/$name.crt",
           '-addext', 'basicConstraints=critical,CA:TRUE',
           '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}
ca('ca', 'mod_todo test CA');
ca('wrong-ca', 'some other CA');
quiet("$W/openssl.log", 'openssl', 'req', '-newkey', 'ec', '-pkeyopt',
      'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1',
      '-keyout', "$W/server.key", '-out', "$W/server.csr");
write_file("$W/server.ext", "subjectAltName = IP:127.0.0.1\n"
         . "basicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n");
quiet("$W/openssl.log", 'openssl', 'x509', '-req', '-in', "$W/server.csr",
      '-CA', "$W/ca.crt", '-CAkey', "$W/ca.key", '-CAcreateserial', '-days', '2',
      '-extfile', "$W/server.ext", '-out', "$W/server.crt");
my %u = user_ids();
chown $u{uid}, $u{gid}, "$W/server.key", "$W/server.crt";
chmod 0600, "$W/server.key";
chmod 0644, "$W/ca.crt", "$W/wrong-ca.crt";

# ------------------------------------------------------- TLS-only cluster
my $pg = "$W/pg";
my $port = low_port();
pg_initdb($pg, <<HBA, <<CONF);
# The owner over the socket; the app over TLS only: no "host" line.
local     all   $user                   peer
hostssl   todo  todo_app  127.0.0.1/32  scram-sha-256
HBA
listen_addresses = '127.0.0.1'
unix_socket_directories = '$W'
max_connections = 40
shared_buffers = 32MB
ssl = on
ssl_cert_file = '$W/server.crt'
ssl_key_file = '$W/server.key'
ssl_min_protocol_version = 'TLSv1.2'
lc_messages = 'C'
CONF
pg_start($pg, $port);
pg_psql($W, $port, 'postgres', 'CREATE DATABASE todo');
my $password = join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 24;
pg_schema($W, $port, 'todo', $password);

# ------------------------------------------------- Apache from a root shell
my $http = low_port();
my $params = "host=127.0.0.1 port=$port dbname=todo user=todo_app "
           . "password=$password sslmode=verify-full sslrootcert=$W/ca.crt "
           . 'connect_timeout=2';
my $web = "$W/httpd";
mkdir $web or die;
httpd_conf($web, $http, $params, user => $user);
# What "sudo -i" leaves for "apachectl start".
my %root_shell = (HOME => '/root', USER => 'root', LOGNAME => 'root',
                  SHELL => '/bin/bash', LANG => 'C.UTF-8',
                  PATH => '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
my $pid = httpd_start($web, $http, as_root => 1, env => \%root_shell);

my $ua = HTTP::Tiny->new(keep_alive => 1, timeout => 15);
my $base = "http://127.0.0.1:$http/api";
my $tok = token("tls-$$");

my $r = http($ua, POST => "$base/v1/tasks", $tok, { title => 'over TLS' });
is $r->{status}, 201, 'a task is created over TLS (verify-full)'
    or diag read_file("$web/logs/error.log");
$r = http($ua, GET => "$base/v1/tasks", $tok);
is $r->{status}, 200, 'and listed';
is eval { $r->{json}{data}{tasks}[0]{title} } // '', 'over TLS', 'the task read back';

my $log = read_file("$web/logs/error.log");
unlike $log, qr/Permission denied/, 'libpq never met /root';
like $log, qr/TODO0209: HOME=\/root cannot be entered by this child \(user \Q$user\E\)/,
     'the module says it gave the children a HOME of their own';

# Every connection the module holds is encrypted.
my $ssl = pg_psql($W, $port, 'postgres',
    "SELECT count(*) || ' ' || count(*) FILTER (WHERE s.ssl) || ' ' "
  . "|| coalesce(min(s.version), '') FROM pg_stat_activity a "
  . "JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'todo_app'");
my ($n, $n_ssl, $version) = split / /, $ssl;
diag "todo_app connections: $n, over TLS: $n_ssl ($version)";
ok $n >= 1, 'the module is connected';
is $n_ssl, $n, 'all its connections are encrypted (pg_stat_ssl)';

# ----------------------------------------------------- PostgreSQL restart
pg_stop($pg, 'fast');
$r = http($ua, POST => "$base/v1/tasks", $tok, { title => 'while down' });
is $r->{status}, 503, '503 while PostgreSQL is down';
pg_start($pg, $port);
my $t = wait_for(5, sub {
    http($ua, POST => "$base/v1/tasks", $tok, { title => 'after restart' })->{status} == 201 });
ok defined $t, 'writes succeed again within 5 s of the restart';
diag sprintf 'writes back %.2f s after the restart', $t // -1;
my $bad = grep { http($ua, GET => "$base/v1/tasks?limit=1", $tok)->{status} != 200 } 1 .. 20;
is $bad, 0, 'and every pooled connection serves again';
chomp(my $pid_now = read_file("$web/httpd.pid"));
is $pid_now, $pid, 'without restarting Apache';

# -------------------------------------------------------------- wrong CA
httpd_stop($web);
(my $wrong = $params) =~ s/sslrootcert=\S+/sslrootcert=$W\/wrong-ca.crt/;
my $log_verified = read_file("$web/logs/error.log");
unlink "$web/logs/error.log";
httpd_conf($web, $http, $wrong, user => $user);
httpd_start($web, $http, as_root => 1, env => \%root_shell);
$r = http($ua, POST => "$base/v1/tasks", $tok, { title => 'wrong CA' });
is $r->{status}, 503, 'with a CA that did not sign the server certificate: 503';
like $r->{headers}{'retry-after'} // '', qr/^\d+$/, 'with Retry-After';
is eval { $r->{json}{error}{code} } // '', 'SERVICE_UNAVAILABLE', 'in the error envelope';
like read_file("$web/logs/error.log"), qr/certificate verify failed/,
     'the log says the certificate could not be verified';
# The sanitize pass's build reports memory errors in the error log.
unlike $log_verified . read_file("$web/logs/error.log"),
       qr/ERROR: AddressSanitizer|runtime error:/, 'no sanitizer report';
