# The sqitch project deploys, verifies, reverts and deploys again.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest;

plan tests => 10;

my $dir = env_of('TODO_PG_DIR');
my $port = env_of('TODO_PG_PORT');
my $user = env_of('TODO_USER_NAME');
my $src = env_of('TODO_SRC');
my $db = 'todo_sqitch_roundtrip';
my $target = "db:pg://$user\@/$db?host=$dir&port=$port";

sub psql {
    my ($d, $sql) = @_;
    my $out = `psql -X -q -At -h '$dir' -p $port -d $d -c "$sql" 2>&1`;
    chomp $out;
    return ($? >> 8, $out);
}
my $last = '';
sub sqitch {
    my $out = `cd '$src/sql' && sqitch @_ '$target' 2>&1`;
    t_debug("sqitch @_: $out");
    $last = $out;
    return $? >> 8;
}
sub has_table { (psql($db, "SELECT to_regclass('public.tasks') IS NOT NULL"))[1] eq 't' }

psql('postgres', "DROP DATABASE IF EXISTS $db");
ok t_cmp((psql('postgres', "CREATE DATABASE $db"))[0], 0, 'fresh database');

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
psql('postgres', "DROP DATABASE IF EXISTS $db");
