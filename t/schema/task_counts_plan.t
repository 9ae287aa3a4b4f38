# With a few hundred users, plain and status lists read the user's count
# through task_counts' primary key (the task_counts_fillfactor change):
# on a table packed into two pages PostgreSQL would read every user's row
# instead, on every list.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest qw(:DEFAULT db_psql db_sqitch);

plan tests => 5;

my $db = 'todo_sqitch_counts_plan';

sub sql {
    my ($rc, $out) = db_psql($db, $_[0]);
    t_debug("psql $_[0]: $out") if $rc;
    return $out;
}

# The count lookups of SQL_LIST_PLAIN and SQL_LIST_STATUS
# (mod_todo/todo_sql.c), planned as the module's sessions plan them.
my %lookup = (
    plain  => ['text', 'SELECT coalesce((SELECT n.total FROM task_counts n'
                       . ' WHERE n.user_id = CAST(\$1 AS text)), 0) AS total'],
    status => ['text, boolean', 'SELECT coalesce((SELECT CASE WHEN x.done'
                       . ' THEN n.completed ELSE n.total - n.completed END'
                       . ' FROM task_counts n WHERE n.user_id = x.uid), 0) AS total'
                       . ' FROM (SELECT CAST(\$1 AS text) AS uid,'
                       . ' CAST(\$2 AS boolean) AS done) AS x'],
);
sub plan_of {
    my ($types, $text) = @{ $lookup{ $_[0] } };
    my $args = $types =~ /,/ ? "'u7', true" : "'u7'";
    return sql("SET plan_cache_mode = force_generic_plan; PREPARE l($types) AS $text;"
               . " EXPLAIN (COSTS OFF) EXECUTE l($args)");
}

db_psql('postgres', "DROP DATABASE IF EXISTS $db");
ok t_cmp((db_psql('postgres', "CREATE DATABASE $db"))[0], 0, 'fresh database');
my ($rc, $out) = db_sqitch($db, 'deploy');
t_debug("sqitch deploy: $out");
ok t_cmp($rc, 0, 'deploy');

# 200 users with a task each, and the statistics autovacuum would gather.
sql("INSERT INTO tasks (user_id, title) SELECT 'u' || n, 't' FROM generate_series(1, 200) n");
sql('VACUUM ANALYZE task_counts');
ok t_cmp(sql("SELECT array_to_string(reloptions, ',') FROM pg_class"
             . " WHERE oid = 'task_counts'::regclass"), 'fillfactor=10',
         'task_counts keeps room in its pages');
ok t_cmp(plan_of('plain'), qr/Index Scan using task_counts_pkey/,
         'plain list: the count through the primary key');
ok t_cmp(plan_of('status'), qr/Index Scan using task_counts_pkey/,
         'status list: the count through the primary key');

db_psql('postgres', "DROP DATABASE IF EXISTS $db");
