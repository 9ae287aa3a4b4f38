# Keyset cursors (docs/api.md §5): every sort, with and without a status
# filter and q, walked seven tasks a page by next_cursor over a few
# hundred tasks (ties in created_at and updated_at, due_at missing on a
# third, titles in mixed case) while another client inserts and deletes
# tasks: every task that existed throughout is seen exactly once, and the
# walk is in the sort's order.  Each page with a successor has a Link
# header to it; a cursor is bound to its user, sort and filters (400
# otherwise), altered is a 400, and cannot go with offset.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use HTTP::Request;
use LWP::UserAgent;
use Time::HiRes qw(sleep time);
use TodoTest qw(:DEFAULT error_fields pg_quote pg_sql);

my @SORTS = qw(created_at -created_at updated_at -updated_at due_at -due_at
               priority -priority title -title);
my @FILTERS = ('', 'status=pending', 'q=milk', 'status=completed&q=MILK');

plan tests => @SORTS * @FILTERS + 9;

my $user = new_user('cursor');
my $tok = token($user);
my $u = pg_quote($user);
sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }

# ----------------------------------------------------------- the tasks
# 150 in one SQL statement (one created_at and updated_at for all: ties,
# broken by id), 150 through the API.
my @words = qw(apple Banana cherry Date elder Fig grape Honey);
pg_sql(<<"SQL");
INSERT INTO tasks (user_id, title, description, priority, due_at, completed, completed_at)
SELECT $u, (ARRAY['apple','Banana','cherry','Date','elder','Fig','grape','Honey'])[1 + n % 8]
           || CASE WHEN n % 3 = 0 THEN ' Milk ' ELSE ' ' END || n,
       CASE WHEN n % 5 = 0 THEN 'with milk' END, n % 4,
       CASE WHEN n % 3 <> 1 THEN timestamptz '2030-01-01T00:00:00Z' + (n % 7) * interval '1 day' END,
       n % 2 = 0, CASE WHEN n % 2 = 0 THEN now() END
  FROM generate_series(1, 150) n
SQL
for my $n (151 .. 300) {
    create_task($tok, title => $words[$n % 8] . ($n % 3 == 0 ? ' mILK ' : ' ') . $n,
                ($n % 5 == 0 ? (description => 'MILK inside') : ()),
                priority => $n % 4, completed => ($n % 2 == 0 ? JSON::PP::true : JSON::PP::false),
                ($n % 3 != 1 ? (due_at => sprintf('2030-01-%02dT00:00:00Z', 1 + $n % 9)) : ()));
}

# Every task as it is now; 40 of them are the writer's to delete.
my %all;
{
    my $path = '/api/v1/tasks?limit=100';
    my $page = 0;
    while (1) {
        my $d = data(req(GET => "$path&offset=" . (100 * $page++), token => $tok)) or die;
        last unless @{ $d->{tasks} };
        $all{ $_->{id} } = $_ for @{ $d->{tasks} };
    }
}
die 'expected 300 tasks, found ' . scalar(keys %all) unless keys %all == 300;
my @ids = sort keys %all;
my %volatile = map { $ids[$_ * 7] => 1 } 0 .. 39;
my %stable = map { $_ => $all{$_} } grep { !$volatile{$_} } @ids;

# --------------------------------------------- the other client, meanwhile
my $stop = "/tmp/cursor-stop-$$";
my $pid = fork // die "fork: $!";
if (!$pid) {
    my $ua = LWP::UserAgent->new(keep_alive => 1, timeout => 30);
    my $call = sub {
        my ($method, $path, $body) = @_;
        my $r = HTTP::Request->new($method => api($path));
        $r->header(Authorization => "Bearer $tok");
        if ($body) {
            $r->content($JSON->encode($body));
            $r->header('Content-Type' => 'application/json');
        }
        return $ua->request($r);
    };
    my @mine = keys %volatile;
    my $n = 0;
    until (-e $stop) {
        if (@mine && $n % 2) {
            $call->(DELETE => '/api/v1/tasks/' . splice(@mine, rand @mine, 1));
        }
        else {
            my $res = $call->(POST => '/api/v1/tasks', {
                title => $words[$n % 8] . ' milk new ' . $n, priority => $n % 4,
                completed => $n % 3 ? JSON::PP::true : JSON::PP::false,
                ($n % 2 ? (due_at => '2030-01-03T00:00:00Z') : ()) });
            push @mine, $JSON->decode($res->content)->{data}{id} if $res->code == 201;
        }
        $n++;
        sleep 0.01;
    }
    require POSIX;
    POSIX::_exit(0);
}
END { if ($pid) { open my $fh, '>', $stop; waitpid $pid, 0; unlink $stop } }

# ----------------------------------------------------------- ordering
sub key_of {
    my ($t, $field) = @_;
    return lc $t->{title} if $field eq 'title';
    return $t->{$field};
}
# -1, 0, 1: how a precedes b in the sort (ties by id, in its direction).
sub order {
    my ($sort, $a, $b) = @_;
    my ($desc, $field) = $sort =~ /^(-?)(.+)$/;
    my ($ka, $kb) = (key_of($a, $field), key_of($b, $field));
    my $c;
    if ($field eq 'due_at' && (!defined $ka || !defined $kb)) {
        # No due date: last, whichever the direction.
        return (defined $ka ? -1 : 1) if defined $ka || defined $kb;
        $c = 0;
    }
    else {
        $c = $field eq 'priority' ? $ka <=> $kb : $ka cmp $kb;
        $c = -$c if $desc;
    }
    return $c || ($desc ? $b->{id} cmp $a->{id} : $a->{id} cmp $b->{id});
}

sub matches {
    my ($t, $filter) = @_;
    return 0 if $filter =~ /status=pending/ && $t->{completed};
    return 0 if $filter =~ /status=completed/ && !$t->{completed};
    if ($filter =~ /q=milk/i) {
        return 0 unless index(lc $t->{title}, 'milk') >= 0
            || index(lc($t->{description} // ''), 'milk') >= 0;
    }
    return 1;
}

# ----------------------------------------------------------- the walks
my ($pages, $cursor_for_tests);
for my $sort (@SORTS) {
    for my $filter (@FILTERS) {
        my $path = "/api/v1/tasks?limit=7&sort=$sort" . ($filter ? "&$filter" : '');
        my (@seen, %count, @bad);
        while ($path) {
            my $res = req(GET => $path, token => $tok);
            my $d = data($res);
            if (!$d) {
                push @bad, 'page: ' . $res->status_line;
                last;
            }
            $pages++;
            push @bad, 'a page of ' . @{ $d->{tasks} } if @{ $d->{tasks} } > 7;
            push @seen, @{ $d->{tasks} };
            $count{ $_->{id} }++ for @{ $d->{tasks} };
            my ($link) = ($res->header('Link') // '') =~ /^<([^>]+)>; rel="next"$/;
            if (defined $d->{next_cursor}) {
                $cursor_for_tests //= $d->{next_cursor} if $filter eq '' && $sort eq 'title';
                push @bad, 'Link does not carry next_cursor'
                    unless $link && index($link, "cursor=$d->{next_cursor}") > 0
                        && $link =~ m{^/api/v1/tasks\?};
            }
            elsif ($link) {
                push @bad, 'a Link on the last page';
            }
            $path = $link;
        }
        my @twice = grep { $count{$_} > 1 } keys %count;
        push @bad, scalar(@twice) . ' seen twice' if @twice;
        my @missing = grep { matches($stable{$_}, $filter) && !$count{$_} } keys %stable;
        push @bad, scalar(@missing) . ' stable tasks missing' if @missing;
        my @wrong = grep { !matches($_, $filter) } @seen;
        push @bad, scalar(@wrong) . ' not matching the filter' if @wrong;
        for my $i (1 .. $#seen) {
            if (order($sort, $seen[$i - 1], $seen[$i]) > 0) {
                push @bad, "out of order at $i: " . join(' > ', map {
                    join '/', map { $_ // 'null' } @{$_}{qw(title created_at due_at priority id)}
                } $seen[$i - 1], $seen[$i]);
                last;
            }
        }
        t_debug("sort=$sort $filter: @bad") if @bad;
        ok !@bad;
    }
}
t_debug("$pages pages walked");

# ----------------------------------------------------------- bindings
sub bad_cursor_ok {
    my ($path, $token, $name) = @_;
    my $res = req(GET => $path, token => $token // $tok);
    my $ok = error_ok($res, 400, 'VALIDATION_ERROR')
        && join(',', error_fields($res)) eq 'cursor';
    t_debug("$name: " . $res->as_string) unless $ok;
    return $ok;
}
my $c = $cursor_for_tests // 'none';
ok t_cmp(req(GET => "/api/v1/tasks?sort=title&limit=3&cursor=$c", token => $tok)->code,
         200, 'another limit: fine');
ok t_cmp(req(GET => "/api/tasks?sort=title&cursor=$c", token => $tok)->code, 200,
         'another path shape: fine');
ok bad_cursor_ok("/api/v1/tasks?sort=-title&cursor=$c", undef, 'another sort');
ok bad_cursor_ok("/api/v1/tasks?sort=title&status=pending&cursor=$c", undef, 'another status');
ok bad_cursor_ok("/api/v1/tasks?sort=title&q=milk&cursor=$c", undef, 'another q');
ok bad_cursor_ok("/api/v1/tasks?sort=title&cursor=$c&offset=7", undef, 'with offset');
(my $altered = $c) =~ s/^(.{12})(.)/$1 . ($2 eq 'Q' ? 'R' : 'Q')/e;
ok bad_cursor_ok("/api/v1/tasks?sort=title&cursor=$altered", undef, 'altered');
ok bad_cursor_ok("/api/v1/tasks?sort=title&cursor=$c", token(new_user('other')),
                 "another user's");
ok t_cmp((data(req(GET => '/api/v1/tasks?limit=7&offset=293&sort=created_at', token => $tok))
          || {})->{next_cursor} // 'null', qr/^[A-Za-z0-9_-]+$/,
         'an offset page has a next_cursor too');
