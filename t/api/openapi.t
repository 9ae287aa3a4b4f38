# The OpenAPI document (GET P/openapi.json): served without a token, with
# "servers" naming the prefix; describes exactly the routes and methods the
# router answers (docs/api.md §3, four path shapes) and, for each operation,
# the statuses of docs/api.md §6 that apply; and the responses the running
# server really sends match the schemas and headers the document declares
# for that operation and status (JSON::Validator).
#
# The plan is computed at the end: every check is recorded first, so a die
# half-way is reported as a failure rather than losing the plan.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest qw(:DEFAULT db_connect pg_sql raw_request);
use IO::Socket::INET;
use Time::HiRes qw(sleep);
# libjson-validator-perl (scripts/lib.sh).  Deliberately no skip: without
# it this test fails to compile, and so fails.
use JSON::Validator;
use JSON::Validator::Schema::OpenAPIv3;

my @checks;
sub check {
    my ($ok, $name, @diag) = @_;
    push @checks, [$ok ? 1 : 0, $name, @diag];
    return $ok;
}

# ------------------------------------------------------------ the table
# docs/api.md §3: the route shapes and the methods of each route.
my @SHAPES = ('/v1', '', '/{user_id}', '/v1/{user_id}');
my %ROUTE_METHODS = (
    '/tasks'               => [qw(get head post options)],
    '/tasks/{id}'          => [qw(get head put patch delete options)],
    '/tasks/{id}/complete' => [qw(patch options)],
    '/changes'             => [qw(get head options)],
);
my %EXPECTED_OPS = (
    '/health'       => [qw(get head options)],
    '/openapi.json' => [qw(get head options)],
);
for my $shape (@SHAPES) {
    $EXPECTED_OPS{"$shape$_"} = $ROUTE_METHODS{$_} for keys %ROUTE_METHODS;
}
my @ALL_METHODS = qw(get head post put patch delete options);

# docs/api.md §6: the statuses each operation can produce (route kind ->
# method -> statuses); user-scoped shapes add 403 to every task operation.
my @AUTH = (401, 500, 503);
my %ROUTE_STATUSES = (
    health  => { get => [200, 503], head => [200, 503], options => [204] },
    openapi => { get => [200], head => [200], options => [204] },
    tasks   => {
        get     => [200, 400, @AUTH],
        head    => [200, 400, @AUTH],
        post    => [201, 400, 409, 413, 415, 422, @AUTH],
        options => [204],
    },
    task => {
        get     => [200, 304, 403, 404, 422, @AUTH],
        head    => [200, 304, 403, 404, 422, @AUTH],
        put     => [200, 400, 403, 404, 409, 412, 413, 415, 422, @AUTH],
        patch   => [200, 400, 403, 404, 409, 412, 413, 415, 422, @AUTH],
        delete  => [204, 400, 403, 404, 409, 412, 422, @AUTH],
        options => [204],
    },
    complete => {
        patch   => [200, 400, 403, 404, 409, 412, 413, 415, 422, @AUTH],
        options => [204],
    },
    changes => {
        get     => [200, 400, 410, @AUTH],
        head    => [200, 400, 410, @AUTH],
        options => [204],
    },
);
my %SPEC_STATUSES = map { $_ => 1 }
    (200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 410, 412, 413, 415, 422, 429, 500, 503);

sub route_kind {
    my ($path) = @_;
    return 'health'   if $path eq '/health';
    return 'openapi'  if $path eq '/openapi.json';
    return 'complete' if $path =~ m{/tasks/\{id\}/complete\z};
    return 'task'     if $path =~ m{/tasks/\{id\}\z};
    return 'changes'  if $path =~ m{/changes\z};
    return 'tasks';
}

# ------------------------------------------------------------- helpers
my ($doc, $jv, $validated) = (undef, undef, 0);

# A JSON pointer ("#/components/...") in $root, or undef.
sub pointer {
    my ($root, $ref) = @_;
    return undef unless defined $ref && $ref =~ s{\A#/}{};
    my $node = $root;
    for my $tok (split m{/}, $ref, -1) {
        $tok =~ s/~1/\//g;
        $tok =~ s/~0/~/g;
        if (ref $node eq 'HASH' && exists $node->{$tok}) { $node = $node->{$tok} }
        elsif (ref $node eq 'ARRAY' && $tok =~ /\A\d+\z/ && $tok < @$node) {
            $node = $node->[$tok];
        }
        else { return undef }
    }
    return $node;
}

# Follow a Reference Object to what it names.
sub deref {
    my ($node) = @_;
    my %seen;
    while (ref $node eq 'HASH' && defined $node->{'$ref'}) {
        return undef if $seen{$node->{'$ref'}}++;
        $node = pointer($doc, $node->{'$ref'});
    }
    return $node;
}

# JSON::Validator 5.14 follows "$ref" in schemas and in parameter lists,
# but not in Response and Header Objects: inline those (and parameters and
# request bodies, for good measure), keep the schema references.
sub inline_refs {
    my ($node, $depth) = @_;
    die "reference loop in the document\n" if $depth > 64;
    if (ref $node eq 'HASH') {
        if (defined $node->{'$ref'} && $node->{'$ref'}
            =~ m{\A#/components/(?:responses|headers|parameters|requestBodies)/}) {
            my $target = pointer($doc, $node->{'$ref'})
                // die "unresolved $node->{'$ref'}\n";
            return inline_refs($target, $depth + 1);
        }
        return { map { $_ => inline_refs($node->{$_}, $depth + 1) } keys %$node };
    }
    if (ref $node eq 'ARRAY') {
        return [ map { inline_refs($_, $depth + 1) } @$node ];
    }
    return $node;
}

sub errors_text { map { "$_" } @_ }

# Header values as JSON::Validator should see them: integers for integer
# schemas (coercion is off, so that bodies are checked strictly).
sub header_getter {
    my ($res) = @_;
    return sub {
        my ($name, $param) = @_;
        my $v = $res->header($name);
        my $type = ref $param eq 'HASH' && ref $param->{schema} eq 'HASH'
            ? ($param->{schema}{type} // '') : '';
        $v += 0 if defined $v && $type eq 'integer' && $v =~ /\A\d+\z/;
        return { exists => defined $v ? 1 : 0, value => $v };
    };
}

# A fresh decode of the body: values never touched by Perl string or number
# contexts, so JSON::Validator sees their JSON types.
sub body_of {
    my ($res) = @_;
    my $raw = $res->content;
    return (0, undef) unless defined $raw && length $raw;
    my $v = eval { $JSON->decode($raw) };
    return (1, $v);
}

# A replayed answer (docs/api.md §9): the first answer's body, whose meta
# names the first request, while X-Request-Id is the replay's own.
sub replayed_envelope_ok {
    my ($res) = @_;
    my $d = json_ok($res) or return 0;
    return ($res->header('Idempotent-Replayed') // '') eq 'true'
        && ref $d eq 'HASH' && join(',', sort keys %$d) eq 'data,error,meta'
        && ($d->{meta}{request_id} // '') =~ /\A[0-9a-f]{24}\z/
        && ($res->header('X-Request-Id') // '') =~ /\A[0-9a-f]{24}\z/
        && $res->header('X-Request-Id') ne $d->{meta}{request_id};
}

# Validate the real response $res to METHOD PATH-TEMPLATE against the
# document: the status is documented for the operation, a body is there
# exactly when the document declares content, and headers and body match.
sub validate_op {
    my ($name, $res, $method, $path, $expect) = @_;
    $method = lc $method;
    my $status = $res->code;
    my $what = sprintf '%s: %s %s -> %s', $name, uc $method, $path, $status;
    if (defined $expect && $status != $expect) {
        return check(0, "$what (expected $expect)", $res->content // '');
    }
    my $op = $doc->{paths}{$path} && $doc->{paths}{$path}{$method};
    return check(0, "$what: operation not documented") unless $op;
    my $r = deref($op->{responses}{$status});
    return check(0, "$what: status not documented for $op->{operationId}")
        unless ref $r eq 'HASH';
    my ($has_body, $body) = body_of($res);
    my $declared = $r->{content} && $r->{content}{'application/json'};
    if ($declared) {
        return check(0, "$what: a JSON body is declared", $res->content)
            unless $has_body && defined $body
                && ($res->header('Content-Type') // '') =~ m{\Aapplication/json\b};
        return check(0, "$what: envelope and X-Request-Id", $res->as_string)
            unless $path eq '/openapi.json' || envelope_ok($res)
                || replayed_envelope_ok($res);
    }
    elsif ($has_body) {
        return check(0, "$what: no body is declared", $res->content);
    }
    my @e = $jv->validate_response([$method, $path, $status], {
        body => sub {
            return { exists => $has_body && $declared ? 1 : 0, value => $body,
                     content_type => scalar $res->header('Content-Type') };
        },
        header => header_getter($res),
    });
    $validated++ unless @e;
    return check(!@e, "$what: matches $op->{operationId}/$status",
                 errors_text(@e));
}

# The same for a response no operation describes (unknown path, a method
# the route lacks): against a reusable response of components.
sub validate_component {
    my ($name, $res, $component, $expect) = @_;
    my $what = sprintf '%s: %s (%s)', $name, $res->code, $component;
    return check(0, "$what (expected $expect)") if $res->code != $expect;
    my $r = $jv->get(['components', 'responses', $component]);
    return check(0, "$what: no such response") unless ref $r eq 'HASH';
    my ($has_body, $body) = body_of($res);
    my @e;
    push @e, 'no JSON body' unless $has_body && defined $body && envelope_ok($res);
    push @e, $jv->validate($body, $r->{content}{'application/json'}{schema})
        if @e == 0;
    my $get = header_getter($res);
    for my $h (sort keys %{ $r->{headers} || {} }) {
        my $p = $r->{headers}{$h};
        my $v = $get->($h, $p);
        if (!$v->{exists}) {
            push @e, "/$h: missing" if $p->{required};
            next;
        }
        push @e, map { "/$h$_" } $jv->validate($v->{value}, $p->{schema});
    }
    $validated++ unless @e;
    return check(!@e, "$what: matches the document", errors_text(@e));
}

# ================================================================ tests
eval {
    # ---------------------------------------------------- the document
    my $res = req(GET => '/api/openapi.json');    # no token
    check($res->code == 200, 'GET /api/openapi.json without a token: 200',
          $res->status_line);
    check(($res->header('Content-Type') // '') =~ m{\Aapplication/json\b},
          'the document is application/json');
    $doc = json_ok($res);
    die "no OpenAPI document: " . $res->status_line . "\n"
        unless ref $doc eq 'HASH';
    check(($doc->{openapi} // '') eq '3.1.0', 'openapi is 3.1.0');
    check(ref $doc->{servers} eq 'ARRAY' && @{ $doc->{servers} } == 1
          && ($doc->{servers}[0]{url} // '') eq '/api',
          'servers[0].url is the prefix /api');
    check($res->content =~ /\A\{"servers":\[\{"url":"\/api"\}\],/,
          'the module prepends "servers" to the document');
    check(($doc->{info}{title} // '') eq 'mod_todo'
          && ($doc->{info}{version} // '') eq '0.1.0'
          && length($doc->{info}{description} // ''),
          'info: title mod_todo, version 0.1.0, a description');
    check(($res->header('X-Request-Id') // '') =~ /\A[0-9a-f]{24}\z/,
          'the document response has an X-Request-Id');

    # What is served is the source file, plus "servers".
    my $src = env_of('TODO_SRC') . '/openapi/openapi.json';
    if (open my $fh, '<:raw', $src) {
        local $/;
        my $file = $JSON->decode(<$fh>);
        check(!exists $file->{servers},
              'openapi/openapi.json has no "servers" (the module adds it)');
        my %served = %$doc;
        delete $served{servers};
        check($JSON->encode($file) eq $JSON->encode(\%served),
              'the served document is openapi/openapi.json plus servers');
    }
    else {
        check(0, "read $src: $!");
    }

    # ------------------------------------------- internal consistency
    my (@unresolved, $nrefs);
    my $walk;
    $walk = sub {
        my ($node, $at) = @_;
        if (ref $node eq 'HASH') {
            if (exists $node->{'$ref'}) {
                $nrefs++;
                push @unresolved, "$at: $node->{'$ref'}"
                    unless defined pointer($doc, $node->{'$ref'});
            }
            $walk->($node->{$_}, "$at/$_") for sort keys %$node;
        }
        elsif (ref $node eq 'ARRAY') {
            $walk->($node->[$_], "$at/$_") for 0 .. $#$node;
        }
    };
    $walk->($doc, '#');
    check(!@unresolved && $nrefs > 100, "every \$ref resolves ($nrefs)",
          @unresolved);

    my (%opid, @dup, @params_bad, @no_success);
    for my $path (sort keys %{ $doc->{paths} }) {
        my $item = $doc->{paths}{$path};
        my @vars = $path =~ /\{(\w+)\}/g;
        for my $m (grep { $item->{$_} } @ALL_METHODS) {
            my $op = $item->{$m};
            my $id = $op->{operationId} // '';
            push @dup, "$m $path: operationId '$id'"
                if !length $id || $opid{$id}++;
            my %declared;
            for my $p (map { deref($_) } @{ $item->{parameters} || [] },
                                          @{ $op->{parameters} || [] }) {
                $declared{ $p->{name} } = 1
                    if ref $p eq 'HASH' && ($p->{in} // '') eq 'path'
                       && $p->{required};
            }
            push @params_bad, "$m $path: {$_} not declared"
                for grep { !$declared{$_} } @vars;
            push @params_bad, "$m $path: path parameter $_ not in the path"
                for grep { my $d = $_; !grep { $_ eq $d } @vars } keys %declared;
            push @no_success, "$m $path"
                unless grep { /\A2\d\d\z/ } keys %{ $op->{responses} || {} };
        }
    }
    check(!@dup, 'operationIds are present and unique', @dup);
    check(!@params_bad, 'path parameters match the path templates',
          @params_bad);
    check(!@no_success, 'every operation has a 2xx response', @no_success);

    # ---------------------- routes x methods: the table of docs/api.md §3
    my (%want, %have);
    for my $path (keys %EXPECTED_OPS) {
        $want{"$_ $path"} = 1 for @{ $EXPECTED_OPS{$path} };
    }
    for my $path (keys %{ $doc->{paths} }) {
        my $item = $doc->{paths}{$path};
        $have{"$_ $path"} = 1 for grep { $item->{$_} } @ALL_METHODS, 'trace';
    }
    my @missing = sort grep { !$have{$_} } keys %want;
    my @extra = sort grep { !$want{$_} } keys %have;
    check(!@missing, scalar(keys %want) . ' route x method pairs are documented',
          map { "missing: $_" } @missing);
    check(!@extra, 'nothing else is documented', map { "extra: $_" } @extra);

    # ------------------------------------------- statuses of each operation
    my (@status_missing, @status_odd);
    for my $path (sort keys %{ $doc->{paths} }) {
        my $kind = route_kind($path);
        for my $m (grep { $doc->{paths}{$path}{$_} } @ALL_METHODS) {
            my $op = $doc->{paths}{$path}{$m};
            my %got = map { $_ => 1 } keys %{ $op->{responses} || {} };
            my @need = @{ $ROUTE_STATUSES{$kind}{$m} || [] };
            push @need, 403 if $path =~ /\{user_id\}/ && $m ne 'options';
            push @status_missing, "$op->{operationId}: $_"
                for grep { !$got{$_} } @need;
            push @status_odd, "$op->{operationId}: $_"
                for grep { !$SPEC_STATUSES{$_} } keys %got;
        }
    }
    check(!@status_missing, 'each operation lists the statuses it can produce',
          @status_missing);
    check(!@status_odd, 'and only statuses of docs/api.md §6', @status_odd);

    # Reusable error responses: code, envelope and the headers of docs/api.md §6.
    my %ERR = (BadRequest => [400, 'VALIDATION_ERROR'],
               Unauthorized => [401, 'UNAUTHORIZED', 'WWW-Authenticate'],
               Forbidden => [403, 'FORBIDDEN'],
               NotFound => [404, 'NOT_FOUND'],
               MethodNotAllowed => [405, 'METHOD_NOT_ALLOWED', 'Allow'],
               PreconditionFailed => [412, 'PRECONDITION_FAILED'],
               PayloadTooLarge => [413, 'PAYLOAD_TOO_LARGE'],
               UnsupportedMediaType => [415, 'UNSUPPORTED_MEDIA_TYPE'],
               UnprocessableEntity => [422, 'UNPROCESSABLE_ENTITY'],
               TooManyRequests => [429, 'TOO_MANY_REQUESTS', 'Retry-After',
                                   'RateLimit-Limit', 'RateLimit-Remaining',
                                   'RateLimit-Reset'],
               Conflict => [409, 'CONFLICT', 'Retry-After'],
               Gone => [410, 'GONE'],
               InternalError => [500, 'INTERNAL_ERROR'],
               ServiceUnavailable => [503, 'SERVICE_UNAVAILABLE', 'Retry-After']);
    my @err_bad;
    for my $name (sort keys %ERR) {
        my ($status, $code, @hdr) = @{ $ERR{$name} };
        my $r = $doc->{components}{responses}{$name};
        my $s = $r && $r->{content}{'application/json'}{schema};
        my $text = $s ? $JSON->encode($s) : '';
        push @err_bad, "$name: no ErrorEnvelope"
            unless $text =~ m{"#/components/schemas/ErrorEnvelope"};
        push @err_bad, "$name: code $code not pinned"
            unless $text =~ /"const":"$code"/;
        push @err_bad, "$name: no $_ header"
            for grep { !($r->{headers} && $r->{headers}{$_}) } @hdr, 'X-Request-Id';
        # Every operation's response for that status is this one (or its
        # HEAD counterpart).
        for my $path (keys %{ $doc->{paths} }) {
            for my $m (grep { $doc->{paths}{$path}{$_} } @ALL_METHODS) {
                my $resp = $doc->{paths}{$path}{$m}{responses}{$status} or next;
                push @err_bad, "$m $path $status: not $name"
                    unless ($resp->{'$ref'} // '')
                        =~ m{\A#/components/responses/(?:Head)?$name\z};
            }
        }
    }
    check(!@err_bad, 'error responses: envelope, code, headers', @err_bad);

    # Every response of every operation names X-Request-Id; creates have
    # Location and ETag, single-task 200/304 an ETag.
    my @hdr_bad;
    for my $path (sort keys %{ $doc->{paths} }) {
        for my $m (grep { $doc->{paths}{$path}{$_} } @ALL_METHODS) {
            my $op = $doc->{paths}{$path}{$m};
            for my $st (sort keys %{ $op->{responses} }) {
                my $r = deref($op->{responses}{$st});
                my %h = map { $_ => 1 } keys %{ ($r && $r->{headers}) || {} };
                my @need = ('X-Request-Id');
                push @need, 'Location', 'ETag' if $st eq '201';
                push @need, 'ETag' if route_kind($path) =~ /\A(?:task|complete)\z/
                    && $st =~ /\A(?:200|304)\z/;
                push @need, 'Allow' if $m eq 'options';
                push @hdr_bad, "$op->{operationId} $st: no $_"
                    for grep { !$h{$_} } @need;
            }
        }
    }
    check(!@hdr_bad, 'responses declare X-Request-Id, ETag, Location, Allow',
          @hdr_bad);

    # Security: bearer JWT everywhere but health, the document and OPTIONS.
    my $scheme = $doc->{components}{securitySchemes}{bearerAuth} || {};
    check(($scheme->{type} // '') eq 'http' && ($scheme->{scheme} // '') eq 'bearer'
          && ($scheme->{bearerFormat} // '') eq 'JWT',
          'securitySchemes.bearerAuth: http bearer JWT');
    check($JSON->encode($doc->{security} // []) eq '[{"bearerAuth":[]}]',
          'global security: bearerAuth');
    my @sec_bad;
    for my $path (sort keys %{ $doc->{paths} }) {
        for my $m (grep { $doc->{paths}{$path}{$_} } @ALL_METHODS) {
            my $op = $doc->{paths}{$path}{$m};
            my $public = $m eq 'options' || $path eq '/health'
                || $path eq '/openapi.json';
            if ($public) {
                push @sec_bad, "$op->{operationId}: should say security: []"
                    unless ref $op->{security} eq 'ARRAY' && !@{ $op->{security} };
            }
            else {
                push @sec_bad, "$op->{operationId}: needs the bearer token"
                    if exists $op->{security};
                push @sec_bad, "$op->{operationId}: no 401"
                    unless $op->{responses}{401};
            }
        }
    }
    check(!@sec_bad, 'security per operation', @sec_bad);

    # The list parameters of docs/api.md §5.
    my $list_op = $doc->{paths}{'/v1/tasks'}{get};
    my %lp = map { my $p = deref($_); ($p->{name} => $p) }
        @{ $list_op->{parameters} || [] };
    check(join(',', sort keys %lp)
          eq 'cursor,due_after,due_before,limit,offset,q,sort,status,updated_since',
          'list parameters', join(',', sort keys %lp));
    my $sort = $lp{sort}{schema} || {};
    check(join(',', sort @{ $sort->{enum} || [] }) eq join(',', sort qw(
          created_at -created_at updated_at -updated_at due_at -due_at
          priority -priority title -title created_at_asc created_at_desc))
          && ($sort->{default} // '') eq '-created_at', 'sort: enum and default');
    my $limit = $lp{limit}{schema} || {};
    check(($limit->{minimum} // -1) == 1 && ($limit->{maximum} // -1) == 100
          && ($limit->{default} // -1) == 50, 'limit: 1..100, default 50');
    check(($lp{offset}{schema}{minimum} // -1) == 0, 'offset >= 0');
    check(($lp{q}{schema}{maxLength} // -1) == 200, 'q: at most 200');
    check(!grep({ ($lp{$_}{schema}{format} // '') ne 'date-time' }
                qw(due_before due_after updated_since)),
          'due_before, due_after, updated_since: date-time');
    my $status_text = $JSON->encode($lp{status}{schema} || {});
    check($status_text =~ /"pending","completed","all"/
          && $status_text =~ /"default":"all"/
          && ($lp{status}{description} // '') =~ /case-insensitive/i,
          'status: pending|completed|all, case-insensitive, default all');

    # ------------------------------------------ the validator itself
    $jv = JSON::Validator->new->schema(inline_refs($doc, 0))->schema;
    check($jv->isa('JSON::Validator::Schema::OpenAPIv3'),
          'JSON::Validator reads the document as OpenAPI 3', ref $jv);
    $jv->coerce({});    # bodies are checked strictly (no "1" for 1)

    # -------------------- the router answers exactly the documented methods
    my $user = new_user('openapi');
    my $tok = token($user);
    my $some_id = '2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c';
    for my $path (sort keys %{ $doc->{paths} }) {
        (my $url = "/api$path") =~ s/\{user_id\}/$user/;
        $url =~ s/\{id\}/$some_id/;
        my @doc_methods = grep { $doc->{paths}{$path}{$_} } @ALL_METHODS;
        my $r = req(OPTIONS => $url);
        check($r->code == 204 && ($r->header('Allow') // '')
              eq join(', ', map { uc } @doc_methods),
              "OPTIONS $url: Allow is the documented methods",
              $r->status_line . ' Allow: ' . ($r->header('Allow') // '-'));
        for my $m (grep { my $x = $_; !grep { $_ eq $x } @doc_methods }
                   @ALL_METHODS) {
            my $r405 = req(uc $m, $url, token => $tok);
            check($r405->code == 405,
                  "$m $url: not documented, and 405", $r405->status_line);
        }
    }

    # ----------------------------------- real responses vs the document
    my $other = new_user('openapi-other');
    my $body = { title => 'openapi check', description => 'from openapi.t',
                 priority => 2, due_at => '2030-01-02T03:04:05+02:00' };

    validate_op('health', req(GET => '/api/health'), GET => '/health', 200);
    validate_op('health HEAD', req(HEAD => '/api/health'), HEAD => '/health', 200);
    validate_op('document', $res, GET => '/openapi.json', 200);
    validate_op('document HEAD', req(HEAD => '/api/openapi.json'),
             HEAD => '/openapi.json', 200);

    # CORS preflight from a configured origin, and from another one.
    my $pf = req(OPTIONS => '/api/v1/tasks', headers => {
        Origin => 'http://localhost:3000',
        'Access-Control-Request-Method' => 'POST',
        'Access-Control-Request-Headers' => 'authorization, content-type' });
    validate_op('preflight', $pf, OPTIONS => '/v1/tasks', 204);
    check(($pf->header('Access-Control-Allow-Origin') // '') eq 'http://localhost:3000'
          && ($pf->header('Access-Control-Allow-Methods') // '') eq 'GET, HEAD, POST, OPTIONS'
          && ($pf->header('Access-Control-Allow-Headers') // '') =~ /\bIf-Match\b/
          && ($pf->header('Access-Control-Max-Age') // '') =~ /\A\d+\z/
          && ($pf->header('Vary') // '') =~ /\bOrigin\b/,
          'preflight: the CORS headers the document describes', $pf->as_string);
    my $pf2 = req(OPTIONS => '/api/v1/tasks/' . $some_id, headers => {
        Origin => 'http://evil.example', 'Access-Control-Request-Method' => 'PUT' });
    validate_op('preflight, other origin', $pf2, OPTIONS => '/v1/tasks/{id}', 204);
    check(!defined $pf2->header('Access-Control-Allow-Origin'),
          'no CORS headers for an origin not configured');

    # Create, read and list in each of the four shapes.
    my %shape_url = ('/v1' => '/v1', '' => '', '/{user_id}' => "/$user",
                     '/v1/{user_id}' => "/v1/$user");
    my @ids;
    for my $shape (@SHAPES) {
        my $p = "/api$shape_url{$shape}";
        my $label = length $shape ? $shape : '(alias)';
        my $c = req(POST => "$p/tasks", token => $tok,
                    json => { %$body, title => "openapi $label" });
        validate_op("create $label", $c, POST => "$shape/tasks", 201) or next;
        my $t = json_ok($c)->{data};
        push @ids, $t->{id};
        check(($c->header('Location') // '') eq "/api/v1/tasks/$t->{id}",
              "create $label: Location is canonical",
              $c->header('Location') // '-');
        validate_op("get $label", req(GET => "$p/tasks/$t->{id}", token => $tok),
                 GET => "$shape/tasks/{id}", 200);
        validate_op("list $label",
                 req(GET => "$p/tasks?status=Pending&sort=-priority&limit=5"
                     . '&offset=0&q=OPENAPI&due_after=2000-01-01T00:00:00Z',
                     token => $tok),
                 GET => "$shape/tasks", 200);
    }
    die "no task was created\n" unless @ids;
    my $id = $ids[0];
    my $u = "/api/v1/tasks/$id";

    my $g = req(GET => $u, token => $tok);
    my $etag = $g->header('ETag') // '';
    validate_op('HEAD task', req(HEAD => $u, token => $tok),
             HEAD => '/v1/tasks/{id}', 200);
    validate_op('If-None-Match', req(GET => $u, token => $tok,
                                  headers => { 'If-None-Match' => $etag }),
             GET => '/v1/tasks/{id}', 304);
    validate_op('HEAD If-None-Match', req(HEAD => $u, token => $tok,
                                       headers => { 'If-None-Match' => $etag }),
             HEAD => '/v1/tasks/{id}', 304);
    validate_op('HEAD list', req(HEAD => '/api/v1/tasks', token => $tok),
             HEAD => '/v1/tasks', 200);
    validate_op('list, all defaults', req(GET => '/api/tasks', token => $tok),
             GET => '/tasks', 200);

    my $r = req(PUT => $u, token => $tok, json => { title => 'replaced' },
                headers => { 'If-Match' => $etag });
    validate_op('PUT', $r, PUT => '/v1/tasks/{id}', 200);
    my $d = json_ok($r) || {};
    check(($d->{data} && !defined $d->{data}{description}
           && $d->{data}{priority} == 0 && !defined $d->{data}{due_at}),
          'PUT reset the omitted fields to their defaults', $r->content);
    validate_op('PATCH', req(PATCH => $u, token => $tok,
                          json => { description => undef, due_at => undef,
                                    priority => 3 }),
             PATCH => '/v1/tasks/{id}', 200);
    $r = req(PATCH => "$u/complete", token => $tok);
    validate_op('complete (toggle)', $r, PATCH => '/v1/tasks/{id}/complete', 200);
    $d = json_ok($r) || {};
    check($d->{data} && $d->{data}{completed} && defined $d->{data}{completed_at},
          'an empty complete body toggles', $r->content);
    validate_op('complete (set)', req(PATCH => "/api/$user/tasks/$id/complete",
                                   token => $tok,
                                   json => { completed => JSON::PP::false }),
             PATCH => '/{user_id}/tasks/{id}/complete', 200);

    # If-Match that does not match: 412 on every write.
    my %stale = (headers => { 'If-Match' => '"999999"' }, token => $tok);
    validate_op('PUT If-Match', req(PUT => $u, %stale, json => { title => 'x' }),
             PUT => '/v1/tasks/{id}', 412);
    validate_op('PATCH If-Match', req(PATCH => "/api/tasks/$id", %stale,
                                   json => { title => 'x' }),
             PATCH => '/tasks/{id}', 412);
    validate_op('complete If-Match', req(PATCH => "$u/complete", %stale),
             PATCH => '/v1/tasks/{id}/complete', 412);
    validate_op('DELETE If-Match', req(DELETE => $u, %stale),
             DELETE => '/v1/tasks/{id}', 412);

    # Delete; again: 404.
    my $cur = req(GET => $u, token => $tok)->header('ETag') // '*';
    validate_op('DELETE', req(DELETE => $u, token => $tok,
                           headers => { 'If-Match' => $cur }),
             DELETE => '/v1/tasks/{id}', 204);
    validate_op('DELETE again', req(DELETE => $u, token => $tok),
             DELETE => '/v1/tasks/{id}', 404);
    validate_op('GET deleted', req(GET => "/api/v1/$user/tasks/$id", token => $tok),
             GET => '/v1/{user_id}/tasks/{id}', 404);
    validate_op('HEAD deleted', req(HEAD => $u, token => $tok),
             HEAD => '/v1/tasks/{id}', 404);
    validate_op('complete deleted', req(PATCH => "$u/complete", token => $tok),
             PATCH => '/v1/tasks/{id}/complete', 404);

    # 401: no token, a malformed one, an expired one.
    $r = req(GET => '/api/v1/tasks');
    validate_op('no token', $r, GET => '/v1/tasks', 401);
    check(($r->header('WWW-Authenticate') // '') eq 'Bearer realm="todo"',
          'no token: WWW-Authenticate without error', $r->header('WWW-Authenticate'));
    $r = req(GET => "/api/v1/tasks/$ids[-1]", token => 'not.a.token');
    validate_op('bad token', $r, GET => '/v1/tasks/{id}', 401);
    check(($r->header('WWW-Authenticate') // '') =~ /error="invalid_token"/,
          'bad token: error="invalid_token"', $r->header('WWW-Authenticate'));
    validate_op('expired token', req(POST => '/api/tasks', json => $body,
                                  token => token($user, exp => time - 3600)),
             POST => '/tasks', 401);
    validate_op('HEAD no token', req(HEAD => '/api/v1/tasks'),
             HEAD => '/v1/tasks', 401);
    validate_op('DELETE no token', req(DELETE => "/api/$user/tasks/$ids[-1]"),
             DELETE => '/{user_id}/tasks/{id}', 401);

    # 403: another user in the path.
    validate_op('other user list', req(GET => "/api/$other/tasks", token => $tok),
             GET => '/{user_id}/tasks', 403);
    validate_op('other user delete',
             req(DELETE => "/api/v1/$other/tasks/$ids[-1]", token => $tok),
             DELETE => '/v1/{user_id}/tasks/{id}', 403);
    validate_op('other user create',
             req(POST => "/api/v1/$other/tasks", token => $tok, json => $body),
             POST => '/v1/{user_id}/tasks', 403);

    # 404 and 405 of the router (no operation: the reusable responses).
    validate_component('unknown path', req(GET => '/api/v1/nothing', token => $tok),
                       'NotFound', 404);
    $r = req(DELETE => '/api/health');
    validate_component('DELETE health', $r, 'MethodNotAllowed', 405);
    $r = req(PUT => '/api/v1/tasks', token => $tok, json => $body);
    validate_component('PUT tasks', $r, 'MethodNotAllowed', 405);
    check(($r->header('Allow') // '') eq 'GET, HEAD, POST, OPTIONS',
          'PUT tasks: Allow', $r->header('Allow'));

    # 422: a path id that is not a UUID; malformed JSON; wrong types.
    validate_op('bad id', req(GET => '/api/v1/tasks/not-a-uuid', token => $tok),
             GET => '/v1/tasks/{id}', 422);
    validate_op('bad id PUT', req(PUT => '/api/tasks/42', token => $tok,
                               json => { title => 'x' }),
             PUT => '/tasks/{id}', 422);
    validate_op('bad id DELETE', req(DELETE => '/api/v1/tasks/42', token => $tok),
             DELETE => '/v1/tasks/{id}', 422);
    validate_op('malformed JSON', req(POST => '/api/v1/tasks', token => $tok,
                                   body => '{"title":', type => 'application/json'),
             POST => '/v1/tasks', 422);
    $r = req(PATCH => "/api/v1/tasks/$ids[-1]", token => $tok,
             json => { title => 5, priority => '1' });
    validate_op('wrong types', $r, PATCH => '/v1/tasks/{id}', 422);
    $d = json_ok($r) || {};
    check(join(',', sort map { $_->{field} // '' } @{ $d->{error}{details} || [] })
          eq 'priority,title', 'wrong types: every field in details', $r->content);
    validate_op('no body PUT', req(PUT => "/api/v1/tasks/$ids[-1]", token => $tok),
             PUT => '/v1/tasks/{id}', 422);

    # 400: validation.
    $r = req(POST => '/api/v1/tasks', token => $tok,
             json => { description => 'no title', id => $some_id, colour => 'red' });
    validate_op('validation', $r, POST => '/v1/tasks', 400);
    $d = json_ok($r) || {};
    check(join(',', sort map { $_->{field} // '' } @{ $d->{error}{details} || [] })
          eq 'colour,id,title', 'validation: every field in details', $r->content);
    validate_op('bad query', req(GET => '/api/v1/tasks?limit=0&bogus=1&status=done',
                              token => $tok),
             GET => '/v1/tasks', 400);
    validate_op('bad query HEAD', req(HEAD => '/api/tasks?sort=size', token => $tok),
             HEAD => '/tasks', 400);
    validate_op('empty PATCH', req(PATCH => "/api/tasks/$ids[-1]", token => $tok,
                                json => {}),
             PATCH => '/tasks/{id}', 400);
    validate_op('empty complete object',
             req(PATCH => "/api/v1/tasks/$ids[-1]/complete", token => $tok,
                 json => {}),
             PATCH => '/v1/tasks/{id}/complete', 400);
    validate_op('PUT without title', req(PUT => "/api/v1/tasks/$ids[-1]",
                                      token => $tok, json => { priority => 9 }),
             PUT => '/v1/tasks/{id}', 400);

    # 413 and 415.
    validate_op('too large', req(POST => '/api/v1/tasks', token => $tok,
                              json => { title => 'x' x 20000 }),
             POST => '/v1/tasks', 413);
    validate_op('too large PATCH', req(PATCH => "/api/v1/tasks/$ids[-1]",
                                    token => $tok,
                                    json => { description => 'y' x 17000 }),
             PATCH => '/v1/tasks/{id}', 413);
    validate_op('not JSON', req(POST => '/api/v1/tasks', token => $tok,
                             body => '{"title":"x"}', type => 'text/plain'),
             POST => '/v1/tasks', 415);
    validate_op('not JSON complete', req(PATCH => "/api/tasks/$ids[-1]/complete",
                                      token => $tok, body => 'completed=1',
                                      type => 'application/x-www-form-urlencoded'),
             PATCH => '/tasks/{id}/complete', 415);

    # ------------------------------ the validator is not vacuous
    my $good = req(GET => "/api/v1/tasks/$ids[-1]", token => $tok);
    my (undef, $tb) = body_of($good);
    $tb->{data}{priority} = 9;
    $tb->{data}{colour} = 'red';
    my @neg = $jv->validate_response([get => '/v1/tasks/{id}', 200], {
        body => sub { { exists => 1, value => $tb,
                        content_type => 'application/json' } },
        header => header_getter($good) });
    check(scalar @neg, 'a task with an extra member is refused', errors_text(@neg));
    (undef, $tb) = body_of($good);
    $tb->{data}{version} = '3';
    @neg = $jv->validate_response([get => '/v1/tasks/{id}', 200], {
        body => sub { { exists => 1, value => $tb,
                        content_type => 'application/json' } },
        header => header_getter($good) });
    check(scalar @neg, 'a version as a string is refused', errors_text(@neg));
    my $nf = req(GET => "/api/v1/tasks/$id", token => $tok);
    my (undef, $eb) = body_of($nf);
    $eb->{error}{code} = 'FORBIDDEN';
    @neg = $jv->validate_response([get => '/v1/tasks/{id}', 404], {
        body => sub { { exists => 1, value => $eb,
                        content_type => 'application/json' } },
        header => header_getter($nf) });
    check(scalar @neg, 'a 404 with another code is refused', errors_text(@neg));
    @neg = $jv->validate_response([get => '/v1/tasks/{id}', 200], {
        body => sub { { exists => 0 } }, header => sub { { exists => 0 } } });
    check(scalar @neg, 'a 200 without ETag and X-Request-Id is refused',
          errors_text(@neg));

    # ------------- another location: its own prefix, foreign task -> 403
    # t/conf/locations/api403.conf: /api403, "TodoForeignTaskStatus 403".
    $r = req(GET => '/api403/openapi.json');
    $d = json_ok($r) || {};
    check($r->code == 200 && ($d->{servers}[0]{url} // '') eq '/api403',
          'servers[0].url is the prefix of each location (/api403)',
          $r->status_line);
    my $mine = create_task($tok, title => 'openapi foreign');
    my $ftok = token($other);
    my $fu = "/api403/v1/tasks/$mine->{id}";
    validate_op('foreign GET', req(GET => $fu, token => $ftok),
                GET => '/v1/tasks/{id}', 403);
    validate_op('foreign complete', req(PATCH => "/api403/tasks/$mine->{id}/complete",
                                        token => $ftok),
                PATCH => '/tasks/{id}/complete', 403);
    validate_op('foreign DELETE', req(DELETE => $fu, token => $ftok),
                DELETE => '/v1/tasks/{id}', 403);
    check(req(GET => "/api/v1/tasks/$mine->{id}", token => $tok)->code == 200,
          'the foreign requests changed nothing');

    # ------------------------------------ Idempotency-Key (docs/api.md §9)
    my %key = (headers => { 'Idempotency-Key' => '"openapi-1"' });
    my $k1 = req(POST => '/api/v1/tasks', token => $tok, json => $body, %key);
    validate_op('keyed create', $k1, POST => '/v1/tasks', 201);
    my $k2 = req(POST => '/api/tasks', token => $tok, json => $body, %key);
    validate_op('keyed create replayed', $k2, POST => '/tasks', 201);
    check(($k2->header('Idempotent-Replayed') // '') eq 'true'
          && $k2->content eq $k1->content, 'the replay says so, byte for byte');
    validate_op('key used for another request',
                req(POST => '/api/v1/tasks', token => $tok, json => { title => 'x' }, %key),
                POST => '/v1/tasks', 422);
    validate_op('malformed key', req(POST => '/api/v1/tasks', token => $tok, json => $body,
                                     headers => { 'Idempotency-Key' => 'a b' }),
                POST => '/v1/tasks', 400);
    validate_op('malformed key on a delete',
                req(DELETE => "/api/v1/tasks/$some_id", token => $tok,
                    headers => { 'Idempotency-Key' => '"a b"' }),
                DELETE => '/v1/tasks/{id}', 400);
    my $kid = (json_ok($k1) || {})->{data}{id} // $some_id;
    my %del = (headers => { 'Idempotency-Key' => 'openapi-del' });
    validate_op('keyed delete', req(DELETE => "/api/v1/tasks/$kid", token => $tok, %del),
                DELETE => '/v1/tasks/{id}', 204);
    validate_op('keyed delete replayed',
                req(DELETE => "/api/v1/$user/tasks/$kid", token => $tok, %del),
                DELETE => '/v1/{user_id}/tasks/{id}', 204);
    my %tog = (headers => { 'Idempotency-Key' => 'openapi-toggle' });
    validate_op('keyed toggle of a deleted task',
                req(PATCH => "/api/v1/tasks/$kid/complete", token => $tok, %tog),
                PATCH => '/v1/tasks/{id}/complete', 404);
    validate_op('keyed 404 replayed',
                req(PATCH => "/api/$user/tasks/$kid/complete", token => $tok, %tog),
                PATCH => '/{user_id}/tasks/{id}/complete', 404);
    {
        # 409: the first request waits inside its statement, holding the
        # key (a session holds the user's task_counts row it needs).
        my $db = db_connect();
        $db->begin_work;
        $db->do('SELECT 1 FROM task_counts WHERE user_id = ? FOR UPDATE', undef, $user);
        my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => (split /:/, Apache::TestRequest::hostport())[1]) or die $!;
        print $sock raw_request(POST => '/api/v1/tasks', token => $tok, json => $body,
                                headers => ['Idempotency-Key' => 'openapi-busy']);
        wait_for(10, sub { pg_sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") > 0 });
        validate_op('key in use', req(POST => '/api/v1/tasks', token => $tok, json => $body,
                                      headers => { 'Idempotency-Key' => 'openapi-busy' }),
                    POST => '/v1/tasks', 409);
        $db->commit;
        local $/;
        my $first = <$sock>;
        close $sock;
        check(($first // '') =~ m{\AHTTP/1\.1 201}, 'the first then finishes');
    }

    # ------------------------------------------- cursors (docs/api.md §5)
    my $l1 = req(GET => '/api/v1/tasks?limit=1&sort=title', token => $tok);
    validate_op('list with a next page', $l1, GET => '/v1/tasks', 200);
    my $next = (json_ok($l1) || {})->{data}{next_cursor} // '';
    check(length $next && ($l1->header('Link') // '') =~ /cursor=\Q$next\E>; rel="next"\z/,
          'next_cursor and Link', $l1->header('Link') // '-');
    validate_op('list by cursor', req(GET => "/api/tasks?limit=1&sort=title&cursor=$next",
                                      token => $tok), GET => '/tasks', 200);
    validate_op('HEAD list by cursor', req(HEAD => "/api/tasks?sort=title&cursor=$next",
                                           token => $tok), HEAD => '/tasks', 200);
    validate_op('cursor for another sort', req(GET => "/api/v1/tasks?cursor=$next",
                                               token => $tok), GET => '/v1/tasks', 400);

    # ------------------------------------- the changes feed (docs/api.md §10)
    my $ch = req(GET => '/api/v1/changes?limit=2', token => $tok);
    validate_op('full sync', $ch, GET => '/v1/changes', 200);
    my $since = (json_ok($ch) || {})->{data}{next_token} // '';
    validate_op('full sync, alias', req(GET => "/api/changes?since=$since", token => $tok),
                GET => '/changes', 200);
    my $doomed = create_task($tok, title => 'openapi doomed');
    req(DELETE => "/api/v1/tasks/$doomed->{id}", token => $tok);
    $ch = req(GET => "/api/$user/changes?since=$since&limit=100", token => $tok);
    validate_op('a delta with a tombstone', $ch, GET => '/{user_id}/changes', 200);
    check(grep({ $_->{deleted} } @{ (json_ok($ch) || {})->{data}{changes} || [] }),
          'a tombstone in it', $ch->content);
    validate_op('HEAD changes', req(HEAD => "/api/v1/$user/changes", token => $tok),
                HEAD => '/v1/{user_id}/changes', 200);
    validate_op('altered since', req(GET => '/api/v1/changes?since=AAAA', token => $tok),
                GET => '/v1/changes', 400);
    validate_op('changes of another user', req(GET => "/api/v1/$other/changes", token => $tok),
                GET => '/v1/{user_id}/changes', 403);
    validate_op('changes without a token', req(GET => '/api/v1/changes'),
                GET => '/v1/changes', 401);
    # TodoTombstoneRetention 3 (t/conf/locations/retention.conf): 410.
    my $rt = (json_ok(req(GET => '/retention/v1/changes', token => $tok)) || {})->{data}{next_token};
    sleep 4;
    validate_op('a token older than the retention',
                req(GET => "/retention/v1/changes?since=$rt", token => $tok),
                GET => '/v1/changes', 410);
    validate_op('HEAD, a token older than the retention',
                req(HEAD => "/retention/changes?since=$rt", token => $tok),
                HEAD => '/changes', 410);

    # ----------------------- 503: the database is down, then back
    pg_stop();
    my $ok = eval {
        validate_op('database down: health', req(GET => '/api/health'),
                    GET => '/health', 503);
        validate_op('database down: HEAD health', req(HEAD => '/api/health'),
                    HEAD => '/health', 503);
        validate_op('database down: list',
                    req(GET => '/api/v1/tasks', token => $tok),
                    GET => '/v1/tasks', 503);
        validate_op('database down: create',
                    req(POST => "/api/$user/tasks", token => $tok, json => $body),
                    POST => '/{user_id}/tasks', 503);
        1;
    };
    my $err = $@;
    pg_start();
    # Back for this suite and the ones after it: every pooled connection
    # that is used again heals (db_restart_health.t).
    check(defined wait_for(10, sub { req(GET => '/api/health')->code == 200 }),
          'the database is back');
    check(req(POST => '/api/v1/tasks', token => $tok, json => $body)->code == 201,
          'writes work again once the database is back');
    die $err unless $ok;
    1;
} or check(0, 'the test ran to its end', "died: $@");

check($validated >= 60, "validated $validated real responses against the document");

plan tests => scalar @checks;
for my $c (@checks) {
    my ($ok, $name, @diag) = @$c;
    unless ($ok) {
        print STDERR "# FAILED: $name\n";
        print STDERR map { "#   $_\n" } map { split /\n/ } grep { defined } @diag;
    }
    ok t_cmp($ok, 1, $name);
}
