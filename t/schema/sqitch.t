# The sqitch project deploys, verifies, reverts and deploys again.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest qw(:DEFAULT db_psql db_sqitch);

plan tests => 10;

my $db = 'todo_sqitch_roundtrip';

my $last = '';
sub sqitch {
    (my $rc, $last) = db_sqitch($db, @_);
    t_debug("sqitch @_: $last");
    return $rc;
}
sub has_table { (db_psql($db, "SELECT to_regclass('public.tasks') IS NOT NULL"))[1] eq 't' }

db_psql('postgres', "DROP DATABASE IF EXISTS $db");
ok t_cmp((db_psql('postgres', "CREATE DATABASE $db"))[0], 0, 'fresh database');

ok t_cmp(sqitch('deploy'), 0, 'deploy');
ok has_table();
ok t_cmp(sqitch('verify'), 0, 'verify');
ok t_cmp(sqitch('revert', '-y'), 0, 'revert');
ok !has_table();
sqitch('status');
ok t_cmp($last, qr/No changes deployed/, 'status: nothing deployed');
ok t_cmp(sqitch('deploy'), 0, 'deploy again');
ok has_table();
ok t_cmp(sqitch('verify'), 0, 'verify again');
db_psql('postgres', "DROP DATABASE IF EXISTS $db");
