package TodoTest;
# Helpers shared by mod_todo's Apache::Test suites: HTTP requests with JSON
# bodies, token minting, envelope checks and control of the private
# PostgreSQL cluster the test command started.
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use Apache::Test;
use Apache::TestRequest ();
use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512);
use HTTP::Request;
use JSON::PP;
use LWP::UserAgent;
use MIME::Base64 qw(encode_base64url);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(api req token hs_token signed_token b64u json_ok
                 envelope_ok error_ok env_of secret pg_stop pg_start
                 wait_for new_user create_task $JSON);

our $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

sub env_of {
    my $name = shift;
    my $v = $ENV{$name};
    die "$name is not set: run the suite through scripts/test.sh\n"
        unless defined $v && length $v;
    return $v;
}

my $ua;
sub ua {
    $ua ||= do {
        my $u = LWP::UserAgent->new(keep_alive => 4, timeout => 30);
        $u->default_header('Accept' => 'application/json');
        $u;
    };
    return $ua;
}

sub api { Apache::TestRequest::resolve_url($_[0]) }

# req(METHOD, PATH, token => T, json => DATA | body => RAW,
#     type => CONTENT_TYPE, headers => {...})
sub req {
    my ($method, $path, %o) = @_;
    my $r = HTTP::Request->new($method => api($path));
    $r->header(Authorization => "Bearer $o{token}") if defined $o{token};
    if (exists $o{json}) {
        $r->content($JSON->encode($o{json}));
        $r->header('Content-Type' => $o{type} // 'application/json');
    }
    elsif (defined $o{body}) {
        $r->content($o{body});
        $r->header('Content-Type' => $o{type}) if defined $o{type};
    }
    $r->header('Content-Length' => length($r->content // ''))
        if defined $r->content && length $r->content;
    my $h = $o{headers} || {};
    $r->header($_ => $h->{$_}) for keys %$h;
    return ua()->request($r);
}

sub b64u { encode_base64url($_[0]) }

sub secret {
    my $f = env_of('TODO_SECRET_FILE');
    open my $fh, '<:raw', $f or die "$f: $!";
    local $/;
    my $s = <$fh>;
    $s =~ s/\r?\n\z//;
    return $s;
}

# An HS* token from raw header and payload (hashes or JSON text).
sub hs_token {
    my ($header, $payload, %o) = @_;
    my $h = ref $header ? $JSON->encode($header) : $header;
    my $p = ref $payload ? $JSON->encode($payload) : $payload;
    my $alg = $o{alg} // 'HS256';
    my $key = $o{secret} // secret();
    my $data = b64u($h) . '.' . b64u($p);
    my %f = (HS256 => \&hmac_sha256, HS384 => \&hmac_sha384,
             HS512 => \&hmac_sha512);
    return "$data." . b64u($f{$alg}->($data, $key));
}

# A valid HS256 token for user $sub (claims can be added or overridden).
sub token {
    my ($sub, %claims) = @_;
    my $now = time;
    my %c = (sub => $sub, iat => int($now), exp => int($now) + 3600, %claims);
    delete $c{$_} for grep { !defined $c{$_} } keys %c;
    return hs_token({ alg => 'HS256', typ => 'JWT' }, \%c);
}

# A token signed with a private key (or a secret file) by jwt-sign.
sub signed_token {
    my (%o) = @_;
    my @cmd = (env_of('TODO_JWT_SIGN'), '--alg', $o{alg},
               ($o{key} ? ('--key', $o{key}) : ('--secret-file', $o{secret_file})),
               '--header', (ref $o{header} ? $JSON->encode($o{header}) : $o{header}),
               '--payload', (ref $o{payload} ? $JSON->encode($o{payload}) : $o{payload}));
    open my $fh, '-|', @cmd or die "jwt-sign: $!";
    my $t = <$fh>;
    close $fh or die "jwt-sign failed (@cmd)";
    chomp $t;
    return $t;
}

sub json_ok {
    my ($res) = @_;
    my $ct = $res->header('Content-Type') // '';
    return undef unless $ct =~ m{^application/json\b};
    my $d = eval { $JSON->decode($res->decoded_content // $res->content) };
    return $d;
}

# The envelope of SPEC section 6, whatever the status.
sub envelope_ok {
    my ($res) = @_;
    my $d = json_ok($res) or return 0;
    return 0 unless ref $d eq 'HASH';
    return 0 unless join(',', sort keys %$d) eq 'data,error,meta';
    my $m = $d->{meta};
    return 0 unless ref $m eq 'HASH' && $m->{request_id} && $m->{timestamp};
    return 0 unless $m->{timestamp} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
    return 0 unless ($res->header('X-Request-Id') // '') eq $m->{request_id};
    return 1;
}

# An error envelope with this status and code.
sub error_ok {
    my ($res, $status, $code) = @_;
    return 0 unless $res->code == $status && envelope_ok($res);
    my $d = json_ok($res);
    return 0 if defined $d->{data};
    return 0 unless ref $d->{error} eq 'HASH' && ($d->{error}{code} // '') eq $code;
    return 0 unless length($d->{error}{message} // '');
    return 1;
}

# ---------------------------------------------------------- PostgreSQL
sub pg_ctl {
    my @args = @_;
    my $bin = env_of('TODO_PG_BIN');
    my $dir = env_of('TODO_PG_DIR');
    system("$bin/pg_ctl", '-D', "$dir/data", '-l', "$dir/postgres.log",
           '-w', '-t', '60', @args) == 0 or die "pg_ctl @args failed";
}
sub pg_stop  { pg_ctl('-m', 'fast', 'stop') }
sub pg_start { pg_ctl('-o', '-p ' . env_of('TODO_PG_PORT'), 'start') }

# Poll $code until it returns true or $secs pass; returns the elapsed time
# or undef on timeout.
sub wait_for {
    my ($secs, $code) = @_;
    my $t0 = time;
    while (time - $t0 < $secs) {
        return time - $t0 if $code->();
        sleep 0.1;
    }
    return undef;
}

my $seq = 0;
sub new_user { sprintf '%s-%d-%d-%d', ($_[0] // 'user'), $$, int(time), ++$seq }

sub create_task {
    my ($tok, %task) = @_;
    my $res = req(POST => '/api/v1/tasks', token => $tok,
                  json => { title => 'task', %task });
    die 'create failed: ' . $res->status_line . ' ' . $res->content
        unless $res->code == 201;
    return json_ok($res)->{data};
}

1;
