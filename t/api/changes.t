# The changes feed (docs/api.md §10): GET P/v1/changes in every path
# shape; a full sync without since, paged, every task once; then from a
# token only what changed, each task once in its latest state, deletions
# as tombstones; a write whose transaction began before a sync and
# committed after it (commits out of order) is in the next sync; tokens
# are opaque and tamper-evident (an altered one, another user's, a list
# cursor: 400), survive a graceful restart of Apache (the key is the
# database's), and are refused with 410 once older than
# TodoTombstoneRetention or than a pruned tombstone they need; deletes
# prune tombstones a few at a time.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Time::HiRes qw(sleep);
use TodoTest qw(:DEFAULT db_connect error_fields graceful_restart log_text
                pg_quote pg_sql);

plan tests => 6 + 8 + 10 + 4     # routes, full sync, delta, out of order
    + 7 + 4 + 5 + 5 + 3;         # bad tokens, restart, 410, pruning, the rest

my $user = new_user('changes');
my $tok = token($user);
my $u = pg_quote($user);

sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }

# One page.
sub page {
    my (%o) = @_;
    my $q = join '&', map { "$_=$o{$_}" } grep { defined $o{$_} && $_ ne 'path' && $_ ne 'token' } sort keys %o;
    return req(GET => ($o{path} // '/api/v1/changes') . ($q ? "?$q" : ''),
               token => $o{token} // $tok);
}

# A whole sync from since: its pages' changes, in order, and the token to
# keep.  Dies on an unexpected answer, so the suite fails instead.
sub sync {
    my ($since, %o) = @_;
    my (@changes, $pages);
    for (;;) {
        my $res = page(since => $since, limit => $o{limit} // 3, path => $o{path},
                       token => $o{token});
        my $d = data($res);
        die 'sync: ' . $res->as_string unless $res->code == 200 && $d;
        push @changes, @{ $d->{changes} };
        $since = $d->{next_token};
        $pages++;
        last unless $d->{has_more};
    }
    return (\@changes, $since, $pages);
}
sub ids { join ',', sort map { $_->{id} } @{ $_[0] } }

# A new task of the user whose id does (or does not) make its delete
# prune: one delete in 8 prunes, those whose id begins with 0 or 1.
sub task_pruning {
    my ($t, $prunes) = @_;
    for my $n (1 .. 500) {
        my $task = create_task($t, title => "pruner $n");
        return $task if ($task->{id} =~ /^[01]/ ? 1 : 0) == $prunes;
    }
    die 'no such task';
}

# ------------------------------------------------------------- routes
ok t_cmp(req(GET => '/api/v1/changes')->code, 401, 'a token is needed');
ok error_ok(req(GET => '/api/v1/someone-else/changes', token => $tok), 403, 'FORBIDDEN');
my $empty = page();
ok t_cmp((data($empty) || {})->{changes}, [], 'a new user: nothing');
ok !(data($empty) || {})->{has_more} && length((data($empty) || {})->{next_token} // '');
ok t_cmp($empty->header('Cache-Control'), 'private, no-cache', 'not for shared caches');
ok t_cmp(req(POST => '/api/v1/changes', token => $tok)->code, 405, 'read only');

# ----------------------------------------------------------- full sync
my @made = map { create_task($tok, title => "task $_", priority => $_ % 4) } 1 .. 7;
my %want = map { $_->{id} => $_ } @made;
my ($full, $t1, $pages) = sync(undef);
ok t_cmp(ids($full), join(',', sort keys %want), 'a full sync: every task');
ok t_cmp($pages, 3, 'in pages of 3');
ok t_cmp(scalar @$full, 7, 'each once');
ok t_cmp([map { $_->{version} } @$full], [map { 1 } @$full], 'tasks as they are');
ok t_cmp($full->[0], $want{ $full->[0]{id} }, 'a change is the whole task (docs/api.md §4)');
for my $shape ('/api/changes', "/api/$user/changes", "/api/v1/$user/changes") {
    my ($c) = sync(undef, path => $shape, limit => 100);
    ok t_cmp(ids($c), ids($full), "full sync at $shape");
}

# -------------------------------------------------- a delta sync
my ($none, $t2) = sync($t1);
ok t_cmp(scalar @$none, 0, 'nothing changed: nothing');
# Three writes to one task, a delete, a create, and a task made and
# deleted since the token.
my $edited = $made[0];
req(PATCH => "/api/v1/tasks/$edited->{id}", token => $tok, json => { title => "edit $_" })
    for 1 .. 3;
req(PATCH => "/api/v1/tasks/$edited->{id}/complete", token => $tok);
ok t_cmp(req(DELETE => "/api/v1/tasks/$made[1]{id}", token => $tok)->code, 204, 'delete');
my $new = create_task($tok, title => 'new');
my $brief = create_task($tok, title => 'brief');
req(DELETE => "/api/v1/tasks/$brief->{id}", token => $tok);
my ($delta, $t3) = sync($t2, limit => 2);
my %by = map { $_->{id} => $_ } @$delta;
ok t_cmp(scalar @$delta, 4, 'four changes, each task once');
ok t_cmp([@{ $by{ $edited->{id} } // {} }{qw(title completed version)}], ['edit 3', 1, 5],
         'an edited task once, in its latest state');
ok t_cmp($by{ $made[1]{id} }, { id => $made[1]{id}, deleted => JSON::PP::true,
                                deleted_at => ($by{ $made[1]{id} } // {})->{deleted_at} },
         'a deleted task: a tombstone');
ok t_cmp(($by{ $made[1]{id} } // {})->{deleted_at} // '',
         qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'with deleted_at');
ok t_cmp(($by{ $new->{id} } // {})->{title}, 'new', 'a new task');
ok t_cmp(($by{ $brief->{id} } // {})->{deleted}, JSON::PP::true,
         'made and deleted since: its tombstone');
ok t_cmp(scalar @{ (sync($t3))[0] }, 0, 'and then nothing again');
ok t_cmp((data(req(GET => "/api/v1/tasks?q=task+2", token => $tok)) || {})->{total}, 0,
         'a deleted task is in no list');

# ------------------------------ a transaction that commits out of order
{
    # It inserts a task and holds; meanwhile the module updates another
    # task (a later transaction id) and commits, and a sync runs: it gets
    # the update, not the insert.  Once the slow one commits, the next
    # sync has its task.
    my ($none0, $t4) = sync($t3);
    my $db = db_connect();
    $db->begin_work;
    $db->do("INSERT INTO tasks (user_id, title) VALUES (?, 'slow insert')", undef, $user);
    ok t_cmp(req(PATCH => "/api/v1/tasks/$made[2]{id}", token => $tok,
                 json => { title => 'fast update' })->code, 200, 'a later write commits first');
    my ($during, $t5) = sync($t4);
    ok t_cmp([map { $_->{title} } @$during], ['fast update'], 'the sync meanwhile: only it');
    $db->commit;
    my ($after, $t6) = sync($t5);
    ok t_cmp([map { $_->{title} } @$after], ['slow insert'], 'the next sync: the slow one');
    ok t_cmp(scalar @{ (sync($t6))[0] }, 0, 'and nothing twice');
    $t3 = $t6;
}

# ------------------------------------------------------------ bad tokens
sub bad_since_ok {
    my ($res, $name) = @_;
    my $ok = error_ok($res, 400, 'VALIDATION_ERROR')
        && join(',', error_fields($res)) =~ /^(since|limit|cursor)$/;
    t_debug("$name: " . $res->as_string) unless $ok;
    return $ok;
}
my $flip = $t3;
substr($flip, 10, 1) = substr($flip, 10, 1) eq 'A' ? 'B' : 'A';
ok bad_since_ok(page(since => $flip), 'an altered token');
ok bad_since_ok(page(since => $t3, token => token(new_user('thief'))), "another user's token");
my $cursor = (data(req(GET => '/api/v1/tasks?limit=1', token => $tok)) || {})->{next_cursor};
ok bad_since_ok(page(since => $cursor), 'a list cursor is not a sync token');
ok bad_since_ok(page(since => 'not-a-token'), 'garbage');
ok bad_since_ok(page(since => '%2B%2F'), 'not base64url');
ok bad_since_ok(page(limit => 0), 'limit 0') && bad_since_ok(page(limit => 101), 'limit 101');
ok bad_since_ok(page(cursor => 'x'), 'an unknown parameter');

# ------------------------------------ tokens outlive an Apache restart
{
    my $edit = req(PATCH => "/api/v1/tasks/$made[3]{id}", token => $tok,
                   json => { priority => 3 });
    graceful_restart();
    my ($c, $t) = sync($t3);
    ok t_cmp([map { $_->{id} } @$c], [$made[3]{id}], 'a token from before a graceful restart works');
    # A task moved to another user by SQL left this one: a tombstone.
    pg_sql("UPDATE tasks SET user_id = 'somebody-else' WHERE user_id = $u"
           . " AND id = '$made[4]{id}'");
    my ($m) = sync($t);
    ok t_cmp([map { $_->{deleted} ? 'gone' : 'task' } @$m], ['gone'],
             'a task moved away by SQL: a tombstone');
    ok t_cmp(pg_sql("SELECT count(*) FROM task_tombstones WHERE user_id = $u"),
             3, 'the tombstones so far');
    ok t_cmp(req(HEAD => '/api/v1/changes', token => $tok)->code, 200, 'HEAD');
    $t3 = $t;
}

# -------------------------------------------------------------- 410
{
    # TodoTombstoneRetention 3 (t/conf/locations/retention.conf).
    my $r = req(GET => '/retention/v1/changes?limit=100', token => $tok);
    my $rt = (data($r) || {})->{next_token};
    ok t_cmp(req(GET => "/retention/v1/changes?since=$rt", token => $tok)->code, 200,
             'a young token');
    sleep 4;
    my $old = req(GET => "/retention/v1/changes?since=$rt", token => $tok);
    ok error_ok($old, 410, 'GONE');
    ok t_cmp(req(GET => '/retention/v1/changes', token => $tok)->code, 200,
             'a full sync instead');

    # A pruned tombstone newer than the token: 410 however young it is.
    my ($c0, $keep) = sync($t3);
    req(DELETE => "/api/v1/tasks/$made[5]{id}", token => $tok);
    pg_sql("UPDATE task_tombstones SET deleted_at = now() - interval '31 days'"
           . " WHERE user_id = $u AND id = '$made[5]{id}'");
    my $pruner = task_pruning($tok, 1);
    req(DELETE => "/api/v1/tasks/$pruner->{id}", token => $tok);   # prunes it
    ok t_cmp(pg_sql("SELECT count(*) FROM task_tombstones WHERE user_id = $u"
                    . " AND id = '$made[5]{id}'"), 0, 'pruned by the next delete');
    ok error_ok(page(since => $keep), 410, 'GONE');
}

# ------------------------------------------- pruning, a few at a time
{
    my $p = new_user('prune');
    my $ptok = token($p);
    my $pq = pg_quote($p);
    my @t = map { create_task($ptok, title => "p$_") } 1 .. 11;
    req(DELETE => "/api/v1/tasks/$_->{id}", token => $ptok) for @t;
    pg_sql("UPDATE task_tombstones SET deleted_at = now() - interval '31 days'"
           . " WHERE user_id = $pq");
    my ($no, $yes) = (task_pruning($ptok, 0), task_pruning($ptok, 1));
    req(DELETE => "/api/v1/tasks/$no->{id}", token => $ptok);
    ok t_cmp(pg_sql("SELECT count(*) FROM task_tombstones WHERE user_id = $pq"),
             12, 'most deletes do not prune');
    req(DELETE => "/api/v1/tasks/$yes->{id}", token => $ptok);
    ok t_cmp(pg_sql("SELECT count(*) FROM task_tombstones WHERE user_id = $pq"),
             2, 'one in 8 prunes (up to 32) the expired tombstones');
    ok t_cmp(pg_sql("SELECT count(*) > 0 FROM tombstone_horizons WHERE user_id = $pq"),
             't', 'and remembers how far');
    ok t_cmp(pg_sql("SELECT count(*) FROM task_tombstones WHERE user_id = $u"), 4,
             "another user's are left alone");
    ok t_cmp(scalar(grep { $_->{deleted} } @{ (sync(undef, token => $ptok, limit => 100))[0] }),
             0, 'a full sync has no tombstones');
}

ok t_cmp(log_text('error_log'), qr/TODO0306: .*sync token refused/, 'refusals logged (TODO0306)');
ok t_cmp(pg_sql("SELECT count(*) FROM tasks WHERE user_id = $u AND change_xid = 0"), 0,
         'every write recorded its transaction');
ok t_cmp(pg_sql("SELECT count(*) FROM tasks WHERE change_xid > 0 AND change_xid"
                . " >= CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint)"), 0,
         'no transaction id from the future');
