# "make install" puts the module where httpd looks for it (through apxs) and
# Debian's todo.load/todo.conf into mods-available, so "a2enmod todo" works.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use File::Temp qw(tempdir);
use TodoTest qw(:DEFAULT apache_configtest);

plan tests => 8;

my $build = env_of('TODO_BUILD');
my $dest = tempdir(CLEANUP => 1);
my $out = `make -C '$build' install DESTDIR='$dest' 2>&1`;
t_debug($out);
ok t_cmp($? >> 8, 0, 'make install succeeds');

chomp(my $libexec = `apxs -q LIBEXECDIR`);
chomp(my $sysconf = `apxs -q SYSCONFDIR`);
ok -f "$dest$libexec/mod_todo.so";
ok -f "$dest$sysconf/mods-available/todo.load";
ok -f "$dest$sysconf/mods-available/todo.conf";

open my $fh, '<', "$dest$sysconf/mods-available/todo.load" or die $!;
my $load = do { local $/; <$fh> };
ok t_cmp($load, qr/^LoadModule todo_module \Q$libexec\E\/mod_todo\.so$/m,
         'todo.load loads the installed module');
ok t_cmp($load, qr/^# Depends: dbd$/m, 'a2enmod enables mod_dbd with it');

# The installed module is the one that was built, and it loads.
ok t_cmp(-s "$dest$libexec/mod_todo.so", -s "$build/.libs/mod_todo.so",
         'installed module is the built one');
my (undef, $check) = apache_configtest($dest, "$dest$libexec/mod_todo.so",
    "Include $dest$sysconf/mods-available/todo.conf");
ok t_cmp($check, qr/Syntax OK/, 'the installed module and todo.conf load');
