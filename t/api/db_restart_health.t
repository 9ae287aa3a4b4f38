# Health while PostgreSQL is down (503 + Retry-After), and 200 again once it
# is back -- from the same server process, without restarting Apache.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest;

plan tests => 7;

ok t_cmp(req(GET => '/api/health')->code, 200, 'healthy before');

pg_stop();
my $res = req(GET => '/api/health');
ok error_ok($res, 503, 'SERVICE_UNAVAILABLE');
ok $res->header('Retry-After') && $res->header('Retry-After') =~ /^\d+$/;
ok t_cmp($res->content, qr/unavailable/, 'says the database is unavailable');
ok $res->content !~ /password|host=|SELECT|pg_/i;   # nothing internal leaks

pg_start();
# Every pooled connection was broken by the restart; poll until it heals.
my $t = wait_for(5, sub { req(GET => '/api/health')->code == 200 });
ok defined $t;
# ... and stays healthy on every connection of the pool.
my $bad = grep { req(GET => '/api/health')->code != 200 } 1 .. 20;
ok t_cmp($bad, 0, 'all later health checks pass');
