# The list totals follow every write.  A list without filters, or with only
# a status, reads its total from task_counts (kept by triggers on tasks);
# one with another filter counts the matching tasks.  After each step the
# three status totals, from both paths, must equal what this test itself
# expects, and the counts table must agree with a count of the tasks table.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use JSON::PP ();
use TodoTest qw(:DEFAULT pg_quote pg_sql raw_exchange raw_request);

use constant RACERS => 12;

plan tests => 10 * 2 + 3;

sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }

my $me = new_user('totals');
my $tok = token($me);
my $other = new_user('totals-other');
my $otok = token($other);

# status => total, once through task_counts and once through the counting
# statement (q='' is "no filter" for the model, but any q forces the
# general statement; every title here contains "t").
sub totals {
    my ($t) = @_;
    my %got;
    for my $status (qw(all pending completed)) {
        for my $path (['counts', ''], ['count', '&q=t']) {
            my $d = data(req(GET => "/api/v1/tasks?limit=1&status=$status$path->[1]",
                             token => $t)) || {};
            $got{"$status/$path->[0]"} = $d->{total} // 'none';
        }
    }
    return \%got;
}

sub want {
    my ($pending, $completed) = @_;
    my %w;
    for my $path (qw(counts count)) {
        $w{"all/$path"} = $pending + $completed;
        $w{"pending/$path"} = $pending;
        $w{"completed/$path"} = $completed;
    }
    return \%w;
}

# task_counts against the table, for every user: the disagreeing users.
sub drift {
    return pg_sql(<<'SQL');
SELECT count(*) FROM
  (SELECT user_id, count(*) AS total, count(*) FILTER (WHERE completed) AS completed
     FROM tasks GROUP BY user_id) t
  FULL JOIN task_counts c USING (user_id)
 WHERE (coalesce(t.total, 0), coalesce(t.completed, 0))
       IS DISTINCT FROM (coalesce(c.total, 0), coalesce(c.completed, 0))
SQL
}

sub step {
    my ($name, $pending, $completed) = @_;
    ok t_cmp(totals($tok), want($pending, $completed), "$name: totals");
    ok t_cmp(drift(), 0, "$name: task_counts agrees with tasks");
}

step('new user', 0, 0);

my @t = map { create_task($tok, title => "task $_") } 1 .. 5;
create_task($otok, title => "other's task");
step('five created', 5, 0);

for my $i (0, 1) {
    req(PATCH => "/api/v1/tasks/$t[$i]{id}", token => $tok,
        json => { completed => JSON::PP::true }) ->code == 200 or die 'PATCH failed';
}
step('two completed by PATCH', 3, 2);

req(PUT => "/api/v1/tasks/$t[0]{id}", token => $tok,
    json => { title => 'task 1 again', completed => JSON::PP::false })->code == 200
    or die 'PUT failed';
req(PATCH => "/api/v1/tasks/$t[1]{id}", token => $tok,
    json => { title => 'task 2 renamed' })->code == 200 or die 'PATCH failed';
step('one reopened by PUT, one renamed', 4, 1);

req(DELETE => "/api/v1/tasks/$t[1]{id}", token => $tok)->code == 204 or die 'DELETE failed';
req(DELETE => "/api/v1/tasks/$t[2]{id}", token => $tok)->code == 204 or die 'DELETE failed';
step('a completed and a pending one deleted', 3, 0);

# The other user's writes leave my totals alone.
my $o = create_task($otok, title => 'other t');
req(PATCH => "/api/v1/tasks/$o->{id}", token => $otok,
    json => { completed => JSON::PP::true })->code == 200 or die 'PATCH failed';
step("the other user's writes", 3, 0);

# Writes that do not go through the module are counted too.
my $u = pg_quote($me);
pg_sql(<<"SQL");
INSERT INTO tasks (user_id, title, completed, completed_at)
SELECT $u, 'sql task ' || n, n % 2 = 0, CASE WHEN n % 2 = 0 THEN now() END
  FROM generate_series(1, 10) n;
SQL
step('ten inserted with SQL', 8, 5);

pg_sql("UPDATE tasks SET completed = NOT completed,"
       . " completed_at = CASE WHEN completed THEN NULL ELSE now() END"
       . " WHERE user_id = $u AND title LIKE 'sql task %'");
step('those ten toggled with SQL', 8, 5);

# Moving tasks between users moves their counts.
my $ou = pg_quote($other);
pg_sql("UPDATE tasks SET user_id = $ou WHERE user_id = $u AND title IN ('sql task 1', 'sql task 3')");
step('two completed ones moved to the other user with SQL', 8, 3);

# Concurrent creates and completions of one user: none is lost.
my @res = raw_exchange([
    (map { raw_request(POST => '/api/v1/tasks', token => $tok, json => { title => "race task $_" }) }
         1 .. RACERS),
    (map { raw_request(PATCH => "/api/v1/tasks/$t[$_]{id}", token => $tok,
                       json => { completed => JSON::PP::true }) } 3, 4),
]);
ok t_cmp([sort { $a <=> $b } map { $_->code } @res], [(200) x 2, (201) x RACERS],
         'concurrent creates and completions answered');
step('concurrent writes', 8 + RACERS - 2, 3 + 2);

pg_sql("DELETE FROM tasks WHERE user_id IN ($u, $ou)");
ok t_cmp(totals($tok), want(0, 0), 'all deleted with SQL: totals');
ok t_cmp(drift(), 0, 'all deleted with SQL: task_counts agrees with tasks');
