# The task_counts change on a database that already has tasks: deploying
# it fills the counts from the existing rows, the triggers follow bulk
# writes and TRUNCATE, and reverting it leaves tasks working without them.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest qw(:DEFAULT db_psql db_sqitch);

plan tests => 11;

my $db = 'todo_sqitch_counts';

sub psql {
    my ($rc, $out) = db_psql(@_);
    t_debug("psql $_[1]: $out") if $rc;
    return ($rc, $out);
}
sub sql { (psql($db, $_[0]))[1] }
sub sqitch {
    my ($rc, $out) = db_sqitch($db, @_);
    t_debug("sqitch @_: $out");
    return $rc;
}
# user:total:completed for every user, from task_counts and from tasks.
sub counts {
    return sql("SELECT string_agg(user_id || ':' || total || ':' || completed, ' '"
               . " ORDER BY user_id) FROM task_counts WHERE total > 0");
}
sub truth {
    return sql("SELECT string_agg(user_id || ':' || n || ':' || c, ' ' ORDER BY user_id)"
               . " FROM (SELECT user_id, count(*) AS n, count(*) FILTER (WHERE completed) AS c"
               . " FROM tasks GROUP BY user_id) t");
}

psql('postgres', "DROP DATABASE IF EXISTS $db");
(psql("postgres", "CREATE DATABASE $db"))[0] == 0 or die 'cannot create database';

ok t_cmp(sqitch('deploy', '--to', 'tasks'), 0, 'deploy the tasks change only');
# Three users with 3, 40 and 7 tasks, every third one completed.
psql($db, "INSERT INTO tasks (user_id, title, completed, completed_at)"
          . " SELECT 'u' || u, 't' || n, n % 3 = 0, CASE WHEN n % 3 = 0 THEN now() END"
          . " FROM (VALUES (1, 3), (2, 40), (3, 7)) AS s(u, k), generate_series(1, k) n");
ok t_cmp(sqitch('deploy'), 0, 'deploy task_counts over existing tasks');
ok t_cmp(counts(), 'u1:3:1 u2:40:13 u3:7:2', 'the counts were filled from the rows');

# Bulk writes: one statement touching many rows of several users.
psql($db, "UPDATE tasks SET completed = true, completed_at = now() WHERE NOT completed AND title < 't3'");
psql($db, "DELETE FROM tasks WHERE user_id = 'u2' AND title LIKE 't2%'");
psql($db, "UPDATE tasks SET user_id = 'u4' WHERE user_id = 'u3' AND completed");
ok t_cmp(counts(), truth(), 'bulk updates, deletes and moves are followed');
ok t_cmp(sqitch('verify'), 0, 'verify');

psql($db, 'TRUNCATE tasks');
ok t_cmp(sql('SELECT count(*) FROM task_counts'), 0, 'TRUNCATE tasks empties the counts');
psql($db, "INSERT INTO tasks (user_id, title) VALUES ('u1', 'after truncate')");
ok t_cmp(counts(), 'u1:1:0', 'and counting starts again');

# Writes with the triggers off leave the counts behind; the README's
# rebuild puts them right.
psql($db, "SET session_replication_role = replica;"
          . " INSERT INTO tasks (user_id, title) VALUES ('u5', 'unseen'), ('u1', 'unseen')");
ok t_cmp(counts(), 'u1:1:0', 'writes with the triggers disabled are not counted');
psql($db, 'BEGIN; LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE; DELETE FROM task_counts;'
          . ' INSERT INTO task_counts SELECT user_id, count(*), count(*) FILTER (WHERE completed)'
          . ' FROM tasks GROUP BY user_id; COMMIT');
ok t_cmp(counts(), 'u1:2:0 u5:1:0', "the README's rebuild counts them");

ok t_cmp(sqitch('revert', '-y', '--to', 'tasks'), 0, 'revert task_counts only');
ok t_cmp([psql($db, "INSERT INTO tasks (user_id, title) VALUES ('u1', 'x');"
                    . " SELECT to_regclass('task_counts') IS NULL")],
         [0, 't'], 'tasks work without it, and it is gone');
psql('postgres', "DROP DATABASE IF EXISTS $db");
