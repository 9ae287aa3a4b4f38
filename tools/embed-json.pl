#!/usr/bin/perl
# embed-json.pl NAME < file.json > file.c
# Embeds a JSON document in the module as a C string (the OpenAPI document
# is served from memory, so an installed module needs no data files).
use strict;
use warnings;
my $name = shift or die "usage: $0 NAME < in > out\n";
local $/;
my $doc = <STDIN>;
$doc =~ s/\s+\z//;
die "$0: the document must be a JSON object\n" unless $doc =~ /\A\{/;
print "/* Generated from the OpenAPI document by tools/embed-json.pl. */\n";
print "const char ${name}[] =\n";
for my $line (split /\n/, $doc) {
    (my $c = $line) =~ s/([\\"])/\\$1/g;
    $c =~ s/([^\x20-\x7e])/sprintf('\\%03o', ord $1)/ge;
    print "    \"$c\\n\"\n";
}
print ";\n";
