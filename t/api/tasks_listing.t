# Listing (docs/api.md §5) against an independent model: several hundred
# tasks of one user with mixed states, priorities, due dates, titles and
# descriptions (ties and duplicates on purpose), and for every filter,
# sort and page size the server's answer must be exactly what the model,
# written here from docs/api.md §5, computes.
#
# The order rules the model implements:
#  - ties on the sort key are broken by id, in the sort's direction;
#  - title sorts by its lower case form, in code point order;
#  - tasks without due_at come last in both directions (among themselves
#    by id, in the sort's direction);
#  - due_before is due_at < X, due_after is due_at > X (tasks without a due
#    date match neither), updated_since is updated_at >= X;
#  - q is a case-insensitive substring of the title or the description.
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test;
use Apache::TestUtil;
use Time::Local qw(timegm);
use URI::Escape qw(uri_escape_utf8);
use TodoTest qw(:DEFAULT pg_quote pg_sql);

my $SEED = $ENV{TODO_LISTING_SEED} // 20261122;
srand $SEED;

my $me = new_user('listing');
my $tok = token($me);
my $noise_user = new_user('listing-noise');

use constant N_SQL => 300;
use constant N_API => 24;
use constant N => N_SQL + N_API;

# ------------------------------------------------------------ test data

# Titles with duplicates, case variants and non-ASCII (with simple case
# mappings, the same in PostgreSQL and Perl), so ties and lower-casing
# both matter.
my @TITLES = ('apple', 'Apple', 'APPLE pie', 'banana', 'Banana split',
              'cherry', 'école', 'École du soir', 'Ωmega', 'ωmega', 'Жук',
              'жук', '日本語', 'zebra', 'Zebra', '😀 smile', 'a', 'A', 'ä', 'Äpfel',
              'b', 'Milk run', 'ü', '100% sure', 'under_score', 'x');
my @DESCRIPTIONS = (undef, undef, undef, 'buy MILK', 'milk and honey',
                    'Needle in a haystack', 'école primaire', 'ÉCOLE', 'Жук-жук',
                    '100%_done', 'plain words', '', 'apple of my eye');

sub ts {
    my ($epoch, $usec) = @_;
    my @t = gmtime $epoch;
    return sprintf '%04d-%02d-%02dT%02d:%02d:%02d.%06dZ',
        $t[5] + 1900, $t[4] + 1, @t[3, 2, 1, 0], $usec // 0;
}

# The model's own RFC 3339 -> canonical UTC text (what the server prints).
sub utc {
    my ($s) = @_;
    $s =~ /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:[Zz]|([+-])(\d\d):(\d\d))$/
        or die "model cannot parse $s";
    my $e = timegm($6, $5, $4, $3, $2 - 1, $1);
    $e -= ($8 eq '+' ? 1 : -1) * ($9 * 3600 + $10 * 60) if defined $8;
    return ts($e, substr(($7 // '') . '000000', 0, 6));
}

sub uuid {
    my @h = map { sprintf '%04x', int rand 65536 } 1 .. 8;
    $h[3] = sprintf '4%03x', hex($h[3]) & 0xfff;
    $h[4] = sprintf '%x%03x', 8 + (hex($h[4]) >> 14 & 3), hex($h[4]) & 0xfff;
    return "$h[0]$h[1]-$h[2]-$h[3]-$h[4]-$h[5]$h[6]$h[7]";
}

sub pick { $_[int rand @_] }

# Few distinct timestamps, so sort keys tie often.
my $T0 = timegm(0, 0, 8, 1, 0, 2025);
my @CREATED = map { ts($T0 + 3600 * $_, $_ % 3 ? 0 : 123456 * ($_ % 7)) } 0 .. 39;
my @DUE = map { ts($T0 + 86400 * 30 + 7200 * $_) } 0 .. 29;

my (%model, %seen);
for my $i (1 .. N_SQL) {
    my $id;
    do { $id = uuid() } while $seen{$id}++;
    my $created = pick(@CREATED);
    my $updated = rand() < 0.5 ? $created
                : ts($T0 + 3600 * 50 + 600 * int(rand 20), int rand 3) ;
    my $done = rand() < 0.4;
    $model{$id} = {
        id => $id, user_id => $me, title => pick(@TITLES) . (rand() < 0.3 ? " $i" : ''),
        description => pick(@DESCRIPTIONS), completed => $done ? JSON::PP::true : JSON::PP::false,
        completed_at => $done ? $updated : undef, priority => int rand 4,
        due_at => rand() < 0.25 ? undef : pick(@DUE),
        created_at => $created, updated_at => $updated, version => 1,
    };
}

sub insert_sql {
    my ($user, @tasks) = @_;
    return 'INSERT INTO tasks (user_id, id, title, description, completed,'
        . ' completed_at, priority, due_at, created_at, updated_at) VALUES '
        . join(",\n", map {
            '(' . join(', ', pg_quote($user), pg_quote($_->{id}), pg_quote($_->{title}),
                       pg_quote($_->{description}), $_->{completed} ? 'true' : 'false',
                       pg_quote($_->{completed_at}), $_->{priority},
                       pg_quote($_->{due_at}), pg_quote($_->{created_at}),
                       pg_quote($_->{updated_at})) . ')' } @tasks) . ";\n";
}

# Another user's tasks that would match every filter: never listed.
my @noise = map { { %$_, id => uuid(), title => "apple milk école $_->{title}" } }
    (values %model)[0 .. 49];
pg_sql(insert_sql($me, values %model) . insert_sql($noise_user, @noise));

# Some through the API too, then changed through it, so server-made
# timestamps and versions are in the mix.  The model takes them from the
# answers.
my @api;
for my $i (1 .. N_API) {
    my %t = (title => pick(@TITLES), priority => int rand 4);
    $t{description} = pick(@DESCRIPTIONS) if $i % 2;
    $t{due_at} = pick(@DUE) =~ s/\.000000Z$/+02:00/r if $i % 3;
    $t{completed} = JSON::PP::true if $i % 4 == 0;
    push @api, create_task($tok, %t);
}
for my $t (@api[0 .. 7]) {
    my $res = req(PATCH => "/api/v1/tasks/$t->{id}", token => $tok,
                  json => { priority => 3 - $t->{priority}, due_at => undef });
    $t = (json_ok($res) || {})->{data} || $t;
}
for my $t (@api[8 .. 13]) {
    my $res = req(PATCH => "/api/v1/tasks/$t->{id}/complete", token => $tok);
    $t = (json_ok($res) || {})->{data} || $t;
}
$model{$_->{id}} = $_ for @api;

# ------------------------------------------------------------ the model

sub model_filter {
    my (%f) = @_;
    my @t = values %model;
    my $st = lc($f{status} // 'all');
    @t = grep { $_->{completed} } @t if $st eq 'completed';
    @t = grep { !$_->{completed} } @t if $st eq 'pending';
    if (defined $f{q} && length $f{q}) {
        my $q = lc $f{q};
        @t = grep { index(lc $_->{title}, $q) >= 0
                    || (defined $_->{description} && index(lc $_->{description}, $q) >= 0) } @t;
    }
    if (defined $f{due_before}) {
        my $x = utc($f{due_before});
        @t = grep { defined $_->{due_at} && $_->{due_at} lt $x } @t;
    }
    if (defined $f{due_after}) {
        my $x = utc($f{due_after});
        @t = grep { defined $_->{due_at} && $_->{due_at} gt $x } @t;
    }
    if (defined $f{updated_since}) {
        my $x = utc($f{updated_since});
        @t = grep { $_->{updated_at} ge $x } @t;
    }
    return @t;
}

sub model_sort {
    my ($sort, @t) = @_;
    $sort //= '-created_at';
    $sort = { created_at_asc => 'created_at', created_at_desc => '-created_at' }->{$sort} // $sort;
    my $desc = $sort =~ s/^-//;
    my $cmp = $sort eq 'priority' ? sub { $_[0]{priority} <=> $_[1]{priority} }
            : $sort eq 'title'    ? sub { lc($_[0]{title}) cmp lc($_[1]{title}) }
            :                       sub { $_[0]{$sort} cmp $_[1]{$sort} };
    my @with = grep { $sort ne 'due_at' || defined $_->{due_at} } @t;
    my @without = grep { $sort eq 'due_at' && !defined $_->{due_at} } @t;
    @with = sort { $cmp->($a, $b) || $a->{id} cmp $b->{id} } @with;
    @without = sort { $a->{id} cmp $b->{id} } @without;
    return $desc ? (reverse(@with), reverse(@without)) : (@with, @without);
}

# --------------------------------------------------------- the server

sub query_string {
    my (%p) = @_;
    return join '&', map { "$_=" . uri_escape_utf8($p{$_}) } sort grep { defined $p{$_} } keys %p;
}

sub list {
    my (%p) = @_;
    my $res = req(GET => '/api/v1/tasks?' . query_string(%p), token => $tok);
    return $res->code == 200 && envelope_ok($res) ? json_ok($res)->{data} : undef;
}

# Walk every page; returns the ids in order, or undef when a page is
# wrong (its total, limit, offset or size).
sub walk {
    my ($limit, %p) = @_;
    my ($off, @ids, $want) = (0);
    my $size = $limit // 50;
    while (1) {
        my $d = list(%p, limit => $limit, offset => $off || undef);
        return undef unless $d;
        $want //= $d->{total};
        my $n = @{ $d->{tasks} };
        unless ($d->{total} == $want && $d->{limit} == $size && $d->{offset} == $off
                && $n == ($want - $off < $size ? $want - $off : $size)) {
            t_debug("bad page at offset $off: total $d->{total} limit $d->{limit} "
                    . "offset $d->{offset} size $n");
            return undef;
        }
        push @ids, map { $_->{id} } @{ $d->{tasks} };
        last if $off + $size >= $want;
        $off += $size;
    }
    return \@ids;
}

sub ids { [map { $_->{id} } @_] }

my @SORTS = qw(created_at -created_at updated_at -updated_at due_at -due_at
               priority -priority title -title created_at_asc created_at_desc);
my @q = ('apple', 'APPLE', 'milk', 'ÉCOLE', 'жук', '%', '_', '100%_', '😀',
         'needle in', 'zzz-nothing', 'a', ' ');
my @STATUS = (undef, 'pending', 'Pending', 'COMPLETED', 'all');
my @QF = (undef, 'apple', 'MILK', 'école', 'a');
my @DUEF = ([], [due_before => $DUE[10]], [due_after => $DUE[20] =~ s/\.000000Z$/+03:00/r],
            [due_before => $DUE[25], due_after => $DUE[5]]);
my @UPDF = (undef, $model{(sort keys %model)[7]}{updated_at});

plan tests => 1 + 1 + @SORTS + 1 + 3 + 2 + @q + @STATUS * @QF * @DUEF * @UPDF + 8;

# The tasks as stored are the model's tasks (the SQL-made ones included).
my %got;
{
    my $off = 0;
    while (my $d = list(sort => 'created_at', limit => 100, offset => $off)) {
        $got{$_->{id}} = $_ for @{ $d->{tasks} };
        last if @{ $d->{tasks} } < 100;
        $off += 100;
    }
}
ok t_cmp(scalar(keys %got), N, 'every task is listed once');
ok t_cmp(\%got, \%model, 'the listed tasks are the model');

# Every sort, in both directions, page by page with limit 100.
for my $s (@SORTS) {
    ok t_cmp(walk(100, sort => $s), ids(model_sort($s, values %model)), "sort $s by 100");
}
ok t_cmp(walk(undef), ids(model_sort(undef, values %model)), 'default sort, default limit');
# Odd page sizes: no gap, no duplicate at the page edges.
for my $c ([37, 'title'], [7, '-due_at'], [13, 'priority']) {
    ok t_cmp(walk($c->[0], sort => $c->[1]), ids(model_sort($c->[1], values %model)),
             "sort $c->[1] by $c->[0]");
}
for my $c ([1, '-priority', status => 'completed', q => 'a'],
           [3, 'due_at', due_after => $DUE[3]]) {
    my ($limit, $sort, %f) = @$c;
    ok t_cmp(walk($limit, sort => $sort, %f), ids(model_sort($sort, model_filter(%f))),
             "sort $sort by $limit, filtered");
}

# q: substrings, case-insensitively, in title or description; % and _
# are plain characters.
for my $q (@q) {
    my @m = model_sort('title', model_filter(q => $q));
    my $d = list(q => $q, sort => 'title', limit => 100) || {};
    ok t_cmp([$d->{total}, ids(@{ $d->{tasks} || [] })],
             [scalar @m, ids(@m > 100 ? @m[0 .. 99] : @m)], "q=" . uri_escape_utf8($q));
}

# Every combination of the filters: the total and the first page.
my $i = 0;
for my $st (@STATUS) {
    for my $q (@QF) {
        for my $due (@DUEF) {
            for my $upd (@UPDF) {
                my %f = (status => $st, q => $q, @$due, updated_since => $upd);
                my $sort = $SORTS[$i++ % @SORTS];
                my @m = model_sort($sort, model_filter(%f));
                my $d = list(%f, sort => $sort, limit => 25) || {};
                ok t_cmp([$d->{total}, ids(@{ $d->{tasks} || [] })],
                         [scalar @m, ids(@m > 25 ? @m[0 .. 24] : @m)],
                         'filters ' . query_string(%f) . " sort $sort");
            }
        }
    }
}

# Limits and offsets at their bounds.
my @by_created = model_sort('created_at', values %model);
my $d = list(sort => 'created_at', limit => 1) || {};
ok t_cmp([$d->{total}, $d->{limit}, ids(@{ $d->{tasks} || [] })],
         [N, 1, [$by_created[0]{id}]], 'limit 1');
$d = list(sort => 'created_at', limit => 100, offset => N - 1) || {};
ok t_cmp([$d->{total}, $d->{offset}, ids(@{ $d->{tasks} || [] })],
         [N, N - 1, [$by_created[-1]{id}]], 'the last one');
$d = list(offset => N) || {};
ok t_cmp([$d->{total}, $d->{limit}, $d->{offset}, $d->{tasks}], [N, 50, N, []],
         'offset at the end: an empty page with the total');
$d = list(offset => 1000000000, status => 'completed') || {};
ok t_cmp([$d->{total}, $d->{tasks}], [scalar(model_filter(status => 'completed')), []],
         'offset far beyond the end');
$d = list(q => 'zzz-nothing', offset => 5) || {};
ok t_cmp([$d->{total}, $d->{tasks}], [0, []], 'nothing matches');
$d = list() || {};
ok t_cmp([$d->{total}, $d->{limit}, $d->{offset}, scalar @{ $d->{tasks} || [] }],
         [N, 50, 0, 50], 'the defaults: limit 50, offset 0');
$d = list(limit => 100) || {};
ok t_cmp(scalar @{ $d->{tasks} || [] }, 100, 'limit 100');
# The other user's tasks never show, whatever matches them.
$d = list(q => 'apple milk école', limit => 100) || {};
ok t_cmp($d->{total}, 0, "another user's tasks are not counted");
