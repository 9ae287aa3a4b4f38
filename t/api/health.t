# GET P/health, the envelope on every answer, request ids, 404 and 405.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest;

plan tests => 20;

my $res = req(GET => '/api/health');
ok t_cmp($res->code, 200, 'health answers 200');
ok envelope_ok($res);
my $d = json_ok($res);
ok t_cmp($d->{data}{status}, 'healthy', 'status healthy');
ok t_cmp($d->{data}{database}, 'up', 'database up');
ok $d->{data}{timestamp} =~ /^\d{4}-\d\d-\d\dT[\d:.]+Z$/;
ok !defined $d->{error};
ok t_cmp($res->header('Content-Type'), qr{^application/json}, 'JSON');

# Request ids: in the header and meta, and different for each request.
my $id1 = $res->header('X-Request-Id');
my $id2 = req(GET => '/api/health')->header('X-Request-Id');
ok $id1 && $id2 && $id1 ne $id2;

# HEAD: same status, no body.
$res = req(HEAD => '/api/health');
ok t_cmp($res->code, 200, 'HEAD health');
ok t_cmp(length($res->content), 0, 'HEAD has no body');

# Unknown routes are a JSON 404, with or without a token.
for my $path ('/api/nope', '/api/v1/things', '/api/v1/tasks/x/y/z') {
    $res = req(GET => $path);
    ok error_ok($res, 404, 'NOT_FOUND');
}

# A method a route does not support: JSON 405 and Allow.
$res = req(DELETE => '/api/health');
ok error_ok($res, 405, 'METHOD_NOT_ALLOWED');
ok t_cmp($res->header('Allow'), 'GET, HEAD, OPTIONS', 'Allow of health');

$res = req(POST => '/api/v1/tasks/2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c',
           json => {});
ok error_ok($res, 405, 'METHOD_NOT_ALLOWED');
ok t_cmp($res->header('Allow'), 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS',
         'Allow of a task');

$res = req(PUT => '/api/tasks');
ok error_ok($res, 405, 'METHOD_NOT_ALLOWED');
ok t_cmp($res->header('Allow'), 'GET, HEAD, POST, OPTIONS', 'Allow of tasks');

# The access log names the request id (LogFormat %L).
my $log = Apache::Test::vars('serverroot') . '/logs/todo_access.log';
open my $fh, '<', $log or die "$log: $!";
my $seen = grep { index($_, $id1) >= 0 } <$fh>;
ok $seen;    # the request id is in the access log
