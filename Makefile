# imc -- build, test, run, install.  See README.md.
#
# Layout: lib/ is the shared library (lib/convert/ the content conversion
# engine); every program has a folder of its own under control/ queue/
# smtpd/ remote/ convert/ (queue/send/ is imc-send's).  A file named imc-*.c
# is a program's main; every other .c file is a module compiled into
# libimc.a so that unit tests (tests/unit/t_*.c) can link it.  A program
# includes only its own folder's headers and lib/'s (make check checks:
# tests/layout.sh).  Programs land in bin/.
#
# Flags: CPPFLAGS, CFLAGS and LDFLAGS are yours to set (make CFLAGS=-O0);
# IMC_CFLAGS (the language and warnings-as-errors) are always added.  Each
# object's header dependencies are tracked (-MMD -MP: the .d beside it).
#
# Packages: `make deps` installs every Debian package imc builds, runs and
# tests with (tools/deps.sh); the test targets and `make run` check theirs
# first; `make` and `make install` install nothing.

CC        = gcc
CPPFLAGS  = -D_GNU_SOURCE -Ilib
CFLAGS    = -O2 -g
LDFLAGS   =
IMC_CFLAGS = -std=gnu11 -Wall -Wextra -Werror
DEPFLAGS  = -MMD -MP
COMPILE   = $(CC) $(CPPFLAGS) $(IMC_CFLAGS) $(CFLAGS) $(DEPFLAGS)
LINK      = $(CC) $(IMC_CFLAGS) $(CFLAGS) $(LDFLAGS)
# the project's libraries are linked statically: one shared object (libc) to map per exec
LDLIBS    = -Wl,-Bstatic -lbearssl -lowfat -lhogweed -lnettle -lgmp -lcrypt -Wl,-Bdynamic
SANFLAGS  = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
PREFIX    = /usr/local
BINDIR    = $(PREFIX)/bin
MANDIR    = $(PREFIX)/share/man
# the systemd unit imc.service (tools/imc.service.in); empty: none
UNITDIR   = $(PREFIX)/lib/systemd/system
# what make install wrote, for make uninstall (empty: none, as for a package)
MANIFEST  = $(PREFIX)/share/imc/installed

DIRS     = lib lib/convert control queue queue/send queue/local queue/inject queue/admin \
           smtpd smtpd/tcpd remote remote/dequeue convert
MAINS    = $(wildcard $(addsuffix /imc-*.c,$(DIRS)))
MODULES  = $(filter-out $(MAINS),$(wildcard $(addsuffix /*.c,$(DIRS))))
PROGS    = $(patsubst %.c,bin/%,$(notdir $(MAINS)))
UNITS    = $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/t_*.c))
SCRIPTS  = bin/imc-setup bin/imc-start

.PHONY: all deps check unit integration run install uninstall deb check-deb clean fuzz fuzzers bench sanbin sancheck
all: $(PROGS) bin/sendmail

# ---- dependencies: Debian packages, installed when missing, only for the
# targets that need more than a compiler: the test targets all of them,
# make run what builds and runs.  Objects wait for the check (order only).
TESTGOALS = check unit integration fuzz fuzzers sanbin sancheck bench
ifneq ($(filter $(TESTGOALS),$(MAKECMDGOALS)),)
DEPSOK = .deps-test.ok
else ifneq ($(filter check-deb,$(MAKECMDGOALS)),)
DEPSOK = .deps-checkdeb.ok
else ifneq ($(filter deb,$(MAKECMDGOALS)),)
DEPSOK = .deps-deb.ok
else ifneq ($(filter run,$(MAKECMDGOALS)),)
DEPSOK = .deps-run.ok
endif
deps:
	@sh tools/deps.sh build run test
.deps-test.ok: tools/deps.sh
	@sh tools/deps.sh build run test
	@touch $@
.deps-run.ok: tools/deps.sh
	@sh tools/deps.sh build run
	@touch $@
.deps-deb.ok: tools/deps.sh
	@sh tools/deps.sh build deb
	@touch $@
.deps-checkdeb.ok: tools/deps.sh
	@sh tools/deps.sh build run deb
	@touch $@

# ---- normal build
build/%.o: %.c | $(DEPSOK)
	@mkdir -p $(dir $@)
	$(COMPILE) -c -o $@ $<
build/libimc.a: $(patsubst %.c,build/%.o,$(MODULES))
	rm -f $@ && ar rcs $@ $^
# The programs started per connection or per message are linked statically, so
# that starting one maps no shared object at all.  The others stay dynamic: the
# daemons gain nothing, the name service (getpwnam, initgroups) and iconv's
# modules need it, and libfaketime (the tests' clock) works only through it.
STATIC   = imc-smtpd imc-queue imc-local imc-remote
define prog_rule
bin/$(notdir $(basename $(1))): build/$(basename $(1)).o build/libimc.a
	$$(LINK) $(if $(filter $(notdir $(basename $(1))),$(STATIC)),-static -o $$@ $$^ -lbearssl -lowfat -lhogweed -lnettle -lgmp -lcrypt,-o $$@ $$^ $$(LDLIBS))
endef
$(foreach m,$(MAINS),$(eval $(call prog_rule,$(m))))
bin/sendmail: bin/imc-inject
	ln -sf imc-inject $@

# ---- sanitizer build of the library and the unit tests
san/%.o: %.c | $(DEPSOK)
	@mkdir -p $(dir $@)
	$(COMPILE) $(SANFLAGS) -c -o $@ $<
san/libimc.a: $(patsubst %.c,san/%.o,$(MODULES))
	rm -f $@ && ar rcs $@ $^

build/tests/%: tests/unit/%.c build/libimc.a
	@mkdir -p $(dir $@)
	$(COMPILE) $(LDFLAGS) -Itests/unit -o $@ $< build/libimc.a $(LDLIBS)
san/tests/%: tests/unit/%.c san/libimc.a
	@mkdir -p $(dir $@)
	$(COMPILE) $(SANFLAGS) $(LDFLAGS) -Itests/unit -o $@ $< san/libimc.a $(LDLIBS)

# san/bin mirrors bin/ with every program built with the sanitizers, for the
# integration tests' second run (IMC_SAN=1, tests/run.sh).  All of them are
# dynamic executables: ASan does not support -static.  The scripts are copies,
# so that imc-setup there names san/bin in the run scripts it writes.
SANPROGS = $(addprefix san/,$(PROGS))
define san_prog_rule
san/bin/$(notdir $(basename $(1))): san/$(basename $(1)).o san/libimc.a
	@mkdir -p san/bin
	$$(LINK) $$(SANFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach m,$(MAINS),$(eval $(call san_prog_rule,$(m))))
san/bin/imc-%: bin/imc-%
	@mkdir -p san/bin
	cp $< $@
san/bin/sendmail: san/bin/imc-inject
	ln -sf imc-inject $@
sanbin: $(SANPROGS) $(addprefix san/,$(SCRIPTS)) san/bin/sendmail

# ---- fuzz targets (tests/fuzz/fuzz_*.c), built with clang and libFuzzer
FUZZERS   = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZFLAGS = -g -O1 -std=gnu11 $(CPPFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all
fuzz/%.o: %.c | $(DEPSOK)
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
fuzz/libimc.a: $(patsubst %.c,fuzz/%.o,$(MODULES))
	rm -f $@ && ar rcs $@ $^
fuzz/bin/%: tests/fuzz/%.c fuzz/libimc.a
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) $(DEPFLAGS) -fsanitize=fuzzer -o $@ $< fuzz/libimc.a $(LDLIBS)
fuzzers: $(DEPSOK) $(addprefix fuzz/bin/,$(FUZZERS))
fuzz: fuzzers
	@FUZZ_SECS=$${FUZZ_SECS:-60} TESTS=fuzz sh tests/run.sh

# ---- tests: every unit test twice (plain and sanitized), the fuzz targets,
# the integration tests, then the integration tests again with san/bin
# (IMC_SAN=1: any ASan or UBSan report fails the run)
check: $(DEPSOK) all $(addprefix build/tests/,$(UNITS)) $(addprefix san/tests/,$(UNITS)) fuzzers sanbin
	@IMC_SAN=1 sh tests/run.sh

sancheck: $(DEPSOK) all sanbin
	@TESTS=san sh tests/run.sh

unit: $(DEPSOK) all $(addprefix build/tests/,$(UNITS)) $(addprefix san/tests/,$(UNITS))
	@TESTS=unit sh tests/run.sh

# ---- the demo instance in ./run, in the foreground
run: $(DEPSOK) all
	@sh tools/demo.sh

bench: $(DEPSOK) all
	@bash bench/inject.sh

# make install keeps the owner and mode of every program already installed
# (imc-setup --system made four of them setuid) and replaces each file by a
# rename; make uninstall removes what the MANIFEST says was installed
# (tools/install.sh).
INSTALLENV = DESTDIR='$(DESTDIR)' BINDIR='$(BINDIR)' MANDIR='$(MANDIR)' UNITDIR='$(UNITDIR)' MANIFEST='$(MANIFEST)'
install: all
	@$(INSTALLENV) sh tools/install.sh install $(PROGS) $(SCRIPTS) -- $(wildcard man/*.[1-8])
uninstall:
	@$(INSTALLENV) sh tools/install.sh uninstall $(PROGS) $(SCRIPTS) -- $(wildcard man/*.[1-8])

# ---- the Debian package (debian/), built with dpkg-buildpackage in a copy
# of the tree and checked with lintian (tools/deb.sh): dist/imc_VERSION_ARCH.deb.
# make check-deb builds it and tests it in a fresh Debian 12 root (tests/deb/,
# a few minutes: not part of make check)
deb: $(DEPSOK)
	@sh tools/deb.sh
check-deb: $(DEPSOK)
	@TESTS=deb sh tests/run.sh

clean:
	rm -rf build san fuzz dist $(PROGS) bin/sendmail .deps-test.ok .deps-run.ok .deps-deb.ok .deps-checkdeb.ok

# header dependencies of every object built so far
-include $(shell find build san fuzz -name '*.d' 2>/dev/null)
