# Errors httpd raises on its own for a todo location (authorization,
# mod_allowmethods, LimitRequestBody) are answered with the JSON envelope,
# X-Request-Id and the right code, like the module's own errors.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest;

plan tests => 12;

my $tok = token(new_user('httpd-errors'));

# 403 from "Require all denied".
my $res = req(GET => '/api/denied', token => $tok);
ok error_ok($res, 403, 'FORBIDDEN');
ok t_cmp($res->content, qr/"request_id"/, 'meta in the body');
ok $res->content !~ /<html|<!DOCTYPE/i;

# 405 from mod_allowmethods, with Allow.
$res = req(DELETE => '/api/v1/getonly', token => $tok);
ok error_ok($res, 405, 'METHOD_NOT_ALLOWED');
ok $res->content !~ /<html|<!DOCTYPE/i;
$res = req(HEAD => '/api/denied', token => $tok);
ok t_cmp($res->code, 403, 'HEAD is refused as well');
ok t_cmp(length($res->content), 0, 'HEAD answers without a body');

# 413: httpd's LimitRequestBody (100) is lower than TodoMaxBodySize.
$res = req(POST => '/tiny/v1/tasks', token => $tok,
           json => { title => 'x' x 150 });
ok error_ok($res, 413, 'PAYLOAD_TOO_LARGE');
ok $res->content !~ /<html|<!DOCTYPE/i;
# ... while a small body passes.
$res = req(POST => '/tiny/v1/tasks', token => $tok, json => { title => 'ok' });
ok t_cmp($res->code, 201, 'a body under the limit');

# The unauthenticated 401 of the access checker is JSON as well, for HEAD
# without a body.
$res = req(HEAD => '/api/v1/tasks');
ok t_cmp($res->code, 401, 'HEAD without a token');
ok t_cmp($res->header('Content-Type') // '', qr{^application/json},
         'still JSON');
