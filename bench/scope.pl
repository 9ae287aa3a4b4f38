#!/usr/bin/perl
# bench/scope.pl SQLTEXT PSQL-OPTION... : which rows each of the module's
# statements can touch, from PostgreSQL's own plans -- the question a
# Citus cluster distributed by tasks.user_id asks of every statement (can
# a router send it to the one shard of that user?).  docs/ha.md, "Growing
# past one primary".
#
# SQLTEXT is bench/sqltext.c built against mod_todo/todo_sql.c
# (t/tools/sql-text of the build tree, scripts/lib.sh sqltext_tool); the
# options name a database holding the schema (psql -h DIR -p PORT -d DB).
# Each statement is prepared with varchar parameters, as apr_dbd's pgsql
# driver prepares it, and EXPLAINed with
# PostgreSQL's generic plan (the one the module runs, TODO_SQL_SESSION_SETUP),
# so the parameters show as $n.  For every scan or write of a table of
# users' rows (tasks, task_counts, idempotency_keys, task_tombstones,
# tombstone_horizons), the script prints the condition that bounds it by user_id:
# the user's id ($1, or a column of the statement's parameter CTE, which
# is $1) -- or "ALL USERS" when nothing does.  On a Citus coordinator
# (tables distributed), it also prints how many shards the distributed
# plan sends the statement to ("tasks").
use strict;
use warnings;
use JSON::PP;

my ($sqltext, @psql) = @ARGV;
die "usage: $0 SQLTEXT PSQL-OPTION...\n" unless $sqltext && @psql;

# Sample values by statement family, in argument order (todo_sql_args_*):
# a user, a task id, '' for every absent optional argument.
my $U = 'user-1';
my $ID = '00000000-0000-4000-8000-000000000001';
my $FP = '0' x 64;
my @KEY = ('key-1', $FP, 'req-1', '86400', '32');    # idem_tail
my %args = (
    todo_health => [],
    todo_get => [$U, $ID],
    todo_create => [$U, 'title', 'description', 'f', '1', ''],
    todo_update => [$U, $ID, '', 'new title', 'f', '', 'f', '', '', 'f', ''],
    todo_delete => [$U, $ID, '', '2592000', '32'],
    todo_foreign => [$ID, $U],
    todo_create_idem => [$U, 'title', 'description', 'f', '1', '', '{"data":',
                         '}', '/api/v1/tasks/', @KEY],
    todo_update_idem => [$U, $ID, '', 'new title', 'f', '', 'f', '', '', 'f', '',
                         '{"data":', '}', '{}', '{}', '', @KEY],
    todo_delete_idem => [$U, $ID, '', '2592000', '32', '{}', '{}', '', @KEY],
    todo_idem_store => [$U, '400', '{}', @KEY],
    todo_idem_get => [$FP, $U, 'key-1', '86400'],
    todo_idem_expire => [$U, 'key-1', '86400'],
    todo_changes => [$U, '', '', '0', '00000000-0000-0000-0000-000000000000',
                     '101', '101', '101'],
    todo_token_key => [],
    todo_list => [$U, '', 'milk', '', '', '', '', '', '21', '0'],
    todo_listp => [$U, $U, '', '', '21', '0'],
    todo_lists => [$U, 'f', $U, 'f', '', '', '21', '0'],
);
# The tables holding users' rows (distributed by user_id on Citus).
my %USER_TABLES = map { $_ => 1 } qw(tasks task_counts idempotency_keys
                                     task_tombstones tombstone_horizons);

sub lit { my $v = shift; $v =~ s/'/''/g; "'$v'" }

my @stmts = map { [split] } `$sqltext --list`;
die "$sqltext --list failed\n" if $? || !@stmts;
my $json = JSON::PP->new;
my ($n_direct, $n_cte, $n_all) = (0, 0, 0);
for my $s (@stmts) {
    my ($label, $n) = @$s;
    (my $family = $label) =~ s/^(todo_lists?p?)_.*/$1/;
    my $vals = $args{$family} or die "no sample arguments for $label\n";
    die "$label: $n arguments, " . @$vals . " samples\n" unless @$vals == $n;
    my $sql = `$sqltext $label @{[map { "'\$$_'" } 1 .. $n]}`;
    chomp $sql;
    my $types = $n ? '(' . join(',', ('varchar') x $n) . ')' : '';
    my $exec = $n ? '(' . join(',', map { lit($_) } @$vals) . ')' : '';
    my $script = "SET plan_cache_mode = force_generic_plan;\n"
        . "PREPARE s$types AS $sql;\n"
        . "EXPLAIN (VERBOSE, COSTS OFF, FORMAT JSON) EXECUTE s$exec;\n";
    open my $ph, '-|', 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
        @psql, '-c', $script or die "psql: $!";
    my $out = do { local $/; <$ph> };
    close $ph or die "psql failed for $label\n";
    $out =~ s/^[^\[]*//s;
    my $plan = $json->decode($out)->[0]{Plan};

    my (@touch, @tasks);
    walk($plan, \@touch, \@tasks);
    my @unbound = grep { !$_->[2] } @touch;
    my $via_cte = grep { ($_->[2] // '') =~ /\.uid$/ } @touch;
    $n_all++ if @unbound;
    $n_cte++ if !@unbound && $via_cte;
    $n_direct++ if !@unbound && !$via_cte;
    printf "%-26s %s%s\n", $label,
        @unbound ? 'ALL USERS' : $via_cte ? 'one user_id (through its parameter CTE)'
                               : 'one user_id',
        @tasks ? "; Citus tasks: @tasks" : '';
    printf "    %-24s %-24s %s\n", @$_[0, 1], $_->[2] // '-' for @touch;
}
printf "%d statements: %d bounded to one user_id by a parameter, %d through "
     . "the parameter CTE, %d not bounded\n", scalar @stmts, $n_direct, $n_cte, $n_all;

# Every node reading or writing a user table, with the condition
# on user_id that bounds it: an index condition, recheck or filter on a
# scan; for an INSERT, the user_id of the inserted row (first output
# column of its source).  UPDATE and DELETE touch what their scan finds.
sub walk {
    my ($node, $touch, $tasks) = @_;
    # Citus: a Custom Scan with "Distributed Query": {"Job": {"Task
    # Count": N}} (its multi_explain.c); N shards get the statement.
    my $job = ($node->{'Distributed Query'} || {})->{Job};
    push @$tasks, $job->{'Task Count'} if ref $job eq 'HASH' && defined $job->{'Task Count'};
    my $rel = $node->{'Relation Name'} // '';
    my $op = $node->{'Operation'} // '';
    if ($USER_TABLES{$rel} && $op ne 'Update'
        && $op ne 'Delete') {
        my ($what, $bound) = ("$node->{'Node Type'} $rel");
        if ($op eq 'Insert') {
            $what = "Insert $rel";
            my $src = ($node->{Plans} || [{}])->[0]{Output} || [];
            $bound = "user_id = $1" if ($src->[0] // '') =~ /^\(?(\$\d+)\)?::text$/;
        }
        else {
            for my $c (grep { defined } map { $node->{$_} } 'Index Cond',
                       'Recheck Cond', 'Filter') {
                ($bound) = $c =~ /(\w+\.user_id = (?:\(\$\d+\)::text|\w+\.uid))/
                    and last;
            }
        }
        push @$touch, [$what, $node->{'Index Name'} // '', $bound];
    }
    walk($_, $touch, $tasks) for @{ $node->{Plans} || [] };
}
