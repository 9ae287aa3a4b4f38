# Idempotency-Key across a database crash (docs/api.md §9): the answer is
# stored in the statement that writes the task, so after "kill -9" of the
# postmaster (crash recovery on restart) either both exist or neither.
# A create answered just before the crash, sent again, gets that very
# answer again; creates in flight when it died, sent again with their keys
# until answered, end up written exactly once -- replayed if they had
# committed, run if they had not.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use TodoTest qw(:DEFAULT pg_kill9 pg_quote pg_sql raw_request);

use constant INFLIGHT => 16;

plan tests => 9;

my $user = new_user('crash');
my $tok = token($user);
my $u = pg_quote($user);

sub keyed {
    my ($key, $title) = @_;
    return req(POST => '/api/v1/tasks', token => $tok, json => { title => $title },
               headers => { 'Idempotency-Key' => $key });
}
sub count_titled {
    pg_sql("SELECT count(*) FROM tasks WHERE user_id = $u AND title = " . pg_quote($_[0]));
}

# Should this die with the database down, start it for the suites after.
my $down = 0;
END { local $?; eval { pg_start() } if $down }
sub crash {
    pg_kill9();
    $down = 1;
    pg_start();
    $down = 0;
    wait_for(20, sub { req(GET => '/api/health')->code == 200 })
        // die 'the database did not come back';
}

# ---------------------------------- answered, then the crash at once
my $first = keyed('before-crash', 'before the crash');
ok t_cmp($first->code, 201, 'created');
crash();
my $again = keyed('before-crash', 'before the crash');
ok t_cmp($again->code, 201, 'sent again after crash recovery');
ok t_cmp($again->header('Idempotent-Replayed') // '', 'true', 'replayed');
ok t_cmp($again->content, $first->content, 'the same answer, byte for byte');
ok t_cmp(count_titled('before the crash'), 1, 'one task');

# ------------------------------------------------- crashed in flight
# INFLIGHT creates sent at once; the postmaster is killed as they arrive.
my $port = (split /:/, Apache::TestRequest::hostport())[1];
my @socks = map {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "connect: $!";
    print $s raw_request(POST => '/api/v1/tasks', token => $tok,
                         json => { title => "in flight $_" },
                         headers => ['Idempotency-Key' => "in-flight-$_"]);
    $s;
} 1 .. INFLIGHT;
sleep 0.01;
crash();
my @before = map {
    local $/;
    my $raw = readline($_) // '';
    close $_;
    length $raw ? (HTTP::Response->parse($raw)->code) : 0;
} @socks;
t_debug("answers of the creates in flight: @before");

# Both or neither: every stored answer has its task, every task its key.
ok t_cmp(pg_sql(<<"SQL"), 0, 'no task without its stored answer, no answer without its task');
SELECT count(*) FROM
  (SELECT title, substring(title from 'in flight (\\d+)') AS n FROM tasks
    WHERE user_id = $u AND title LIKE 'in flight %') t
  FULL JOIN
  (SELECT key, substring(key from 'in-flight-(\\d+)') AS n FROM idempotency_keys
    WHERE user_id = $u AND key LIKE 'in-flight-%') k USING (n)
 WHERE t.n IS NULL OR k.n IS NULL
SQL

# Each sent again until answered: 201 every time, once each.
my (%how, @bad);
for my $i (1 .. INFLIGHT) {
    my $res;
    for (1 .. 20) {
        $res = keyed("in-flight-$i", "in flight $i");
        last if $res->code == 201;
        sleep 0.2;
    }
    push @bad, "$i: " . $res->code if $res->code != 201;
    $how{ $res->header('Idempotent-Replayed') ? 'replayed' : 'ran' }++;
    push @bad, "$i was answered 201 before the crash, now runs again"
        if $before[$i - 1] == 201 && !$res->header('Idempotent-Replayed');
}
t_debug('after the crash: ' . join(', ', map { "$_ $how{$_}" } sort keys %how));
ok t_cmp(\@bad, [], 'every create answered 201');
ok t_cmp(pg_sql("SELECT count(*) FROM tasks WHERE user_id = $u AND title LIKE 'in flight %'"),
         INFLIGHT, 'each written once');
ok t_cmp(pg_sql("SELECT count(*) FROM (SELECT title FROM tasks WHERE user_id = $u"
                . " GROUP BY title HAVING count(*) > 1) d"), 0, 'no duplicates');
