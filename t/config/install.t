# "make install" puts the module where httpd looks for it (through apxs) and
# Debian's todo.load/todo.conf into mods-available, so "a2enmod todo" works.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use File::Temp qw(tempdir);
use TodoTest;

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
my $conf = "$dest/httpd.conf";
open my $c, '>', $conf or die $!;
print $c <<"CONF";
ServerRoot $dest
ServerName localhost
PidFile $dest/httpd.pid
ErrorLog $dest/error.log
Listen 127.0.0.1:1
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule todo_module $dest$libexec/mod_todo.so
Include $dest$sysconf/mods-available/todo.conf
CONF
close $c;
ok t_cmp(scalar `/usr/sbin/apache2 -t -f $conf 2>&1`, qr/Syntax OK/,
         'the installed module and todo.conf load');
