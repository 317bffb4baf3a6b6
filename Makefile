# imc -- build, test, run, install.  See README.md.
#
# Layout: lib/ is the shared library; control/ queue/ smtpd/ remote/ convert/
# hold the programs.  In each of those folders a file named imc-*.c is a
# program's main; every other .c file is a module compiled into libimc.a so
# that unit tests (tests/unit/t_*.c) can link it.  Programs land in bin/.

CC       = gcc
CFLAGS   = -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Ilib
# the project's libraries are linked statically: one shared object (libc) to map per exec
LDLIBS   = -Wl,-Bstatic -lbearssl -lowfat -lcrypt -Wl,-Bdynamic
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
PREFIX   = /usr/local

DIRS     = lib control queue smtpd remote convert
MAINS    = $(wildcard $(addsuffix /imc-*.c,$(DIRS)))
MODULES  = $(filter-out $(MAINS),$(wildcard $(addsuffix /*.c,$(DIRS))))
HEADERS  = $(wildcard $(addsuffix /*.h,$(DIRS)))
PROGS    = $(patsubst %.c,bin/%,$(notdir $(MAINS)))
UNITS    = $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/t_*.c))
SCRIPTS  = bin/imc-setup bin/imc-start

.PHONY: all deps check unit integration run install clean fuzz fuzzers bench sanbin sancheck
all: deps-ok $(PROGS) bin/sendmail

# ---- dependencies: Debian packages, installed when missing
deps:
	@sh tools/deps.sh
deps-ok: tools/deps.sh
	@sh tools/deps.sh
	@touch $@

# ---- normal build
build/%.o: %.c $(HEADERS) | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<
build/libimc.a: $(patsubst %.c,build/%.o,$(MODULES))
	rm -f $@ && ar rcs $@ $^
# The programs started per connection or per message are linked statically, so
# that starting one maps no shared object at all.  The others stay dynamic: the
# daemons gain nothing, the name service (getpwnam, initgroups) and iconv's
# modules need it, and libfaketime (the tests' clock) works only through it.
STATIC   = imc-smtpd imc-queue imc-local imc-remote
define prog_rule
bin/$(notdir $(basename $(1))): build/$(basename $(1)).o build/libimc.a
	$$(CC) $$(CFLAGS) $(if $(filter $(notdir $(basename $(1))),$(STATIC)),-static -o $$@ $$^ -lbearssl -lowfat -lcrypt,-o $$@ $$^ $$(LDLIBS))
endef
$(foreach m,$(MAINS),$(eval $(call prog_rule,$(m))))
bin/sendmail: bin/imc-inject
	ln -sf imc-inject $@

# ---- sanitizer build of the library and the unit tests
san/%.o: %.c $(HEADERS) | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -c -o $@ $<
san/libimc.a: $(patsubst %.c,san/%.o,$(MODULES))
	rm -f $@ && ar rcs $@ $^

build/tests/%: tests/unit/%.c tests/unit/check.h build/libimc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< build/libimc.a $(LDLIBS)
san/tests/%: tests/unit/%.c tests/unit/check.h san/libimc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -Itests/unit -o $@ $< san/libimc.a $(LDLIBS)

# san/bin mirrors bin/ with every program built with the sanitizers, for the
# integration tests' second run (IMC_SAN=1, tests/run.sh).  All of them are
# dynamic executables: ASan does not support -static.  The scripts are copies,
# so that imc-setup there names san/bin in the run scripts it writes.
SANPROGS = $(addprefix san/,$(PROGS))
define san_prog_rule
san/bin/$(notdir $(basename $(1))): san/$(basename $(1)).o san/libimc.a
	@mkdir -p san/bin
	$$(CC) $$(CFLAGS) $$(SANFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach m,$(MAINS),$(eval $(call san_prog_rule,$(m))))
san/bin/imc-%: bin/imc-%
	@mkdir -p san/bin
	cp $< $@
san/bin/sendmail: san/bin/imc-inject
	ln -sf imc-inject $@
sanbin: deps-ok $(SANPROGS) $(addprefix san/,$(SCRIPTS)) san/bin/sendmail

# ---- fuzz targets (tests/fuzz/fuzz_*.c), built with clang and libFuzzer
FUZZERS   = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZFLAGS = -g -O1 -std=gnu11 -D_GNU_SOURCE -Ilib -fsanitize=address,undefined -fno-sanitize-recover=all
fuzz/%.o: %.c $(HEADERS) | deps-ok
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
fuzz/libimc.a: $(patsubst %.c,fuzz/%.o,$(MODULES))
	rm -f $@ && ar rcs $@ $^
fuzz/bin/%: tests/fuzz/%.c fuzz/libimc.a
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) -fsanitize=fuzzer -o $@ $< fuzz/libimc.a $(LDLIBS)
fuzzers: $(addprefix fuzz/bin/,$(FUZZERS))
fuzz: fuzzers
	@FUZZ_SECS=$${FUZZ_SECS:-60} TESTS=fuzz sh tests/run.sh

# ---- tests: every unit test twice (plain and sanitized), the fuzz targets,
# the integration tests, then the integration tests again with san/bin
# (IMC_SAN=1: any ASan or UBSan report fails the run)
check: all $(addprefix build/tests/,$(UNITS)) $(addprefix san/tests/,$(UNITS)) fuzzers sanbin
	@IMC_SAN=1 sh tests/run.sh

sancheck: all sanbin
	@TESTS=san sh tests/run.sh

unit: all $(addprefix build/tests/,$(UNITS)) $(addprefix san/tests/,$(UNITS))
	@TESTS=unit sh tests/run.sh

# ---- the demo instance in ./run, in the foreground
run: all
	@sh tools/demo.sh

bench: all
	@bash bench/inject.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(PROGS) $(SCRIPTS) $(DESTDIR)$(PREFIX)/bin
	ln -sf imc-inject $(DESTDIR)$(PREFIX)/bin/sendmail
	for m in $(wildcard man/*.8); do install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man8; done
	for m in $(wildcard man/*.5); do install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man5; done

clean:
	rm -rf build san fuzz $(PROGS) bin/sendmail deps-ok
