# SPDX-License-Identifier: GPL-2.0
#
# rblk top-level Makefile.
#
#   make                 kernel/rblk.ko for KDIR, and userspace/rblkadm
#   make modules-all     build/mod-$KVER/rblk.ko for every kernel in
#                        build/kernels.env (the VM test rig loads these),
#                        the debug kernel's too once scripts/debug-kernel
#                        built it (KVER_61DEBUG, KDIR_61DEBUG)
#   make check           scripts/setup, then tests/run (all test kinds)
#   make demo / bench    scripts/setup, then scripts/demo / scripts/bench
#   make install         rblk.ko into /lib/modules/$KVER/extra + depmod,
#                        rblkadm, its man pages, rblk.service and
#                        modules-load.d/rblk.conf (make -C userspace install)
#   make deb             the Debian packages rblk-dkms and rblk-utils (and the
#                        source package) into build/deb/, built with
#                        dpkg-buildpackage from a copy of the tree made there
#   make clean
#
# Variables: KDIR (kernel build dir), KVER (its release), W=1, C=1 (passed to
# kbuild), TESTS="..." (arguments for tests/run), DESTDIR (install),
# DEB_BUILD_OPTIONS (deb, e.g. nocheck).

TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

-include $(TOP)/build/kernels.env

HOST_KVER := $(shell uname -r)
# The first Debian 6.1 kernel with headers, should build/kernels.env not
# exist yet (scripts/setup writes it).
KVER_61 ?= $(notdir $(patsubst %/build,%,$(firstword $(wildcard /lib/modules/6.1.*/build))))

ifeq ($(origin KDIR),undefined)
 ifneq ($(wildcard /lib/modules/$(HOST_KVER)/build),)
  KDIR := /lib/modules/$(HOST_KVER)/build
 else
  KDIR := /lib/modules/$(KVER_61)/build
 endif
endif
# Debian's header packages carry the upstream version in kernel.release:
# prefer the release named by the /lib/modules/$KVER/build path.
KVER ?= $(if $(filter /lib/modules/%/build,$(KDIR)),$(patsubst /lib/modules/%/build,%,$(KDIR)),$(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null))

# Every kernel the rig boots.
KVERS := $(strip $(KVER_61) $(KVER_612))
# The debug kernel, built out of tree by scripts/debug-kernel.
KVER_DEBUG := $(strip $(KVER_61DEBUG))

KBUILD_ARGS := CONFIG_BLK_DEV_RBLK=m

PYTHON ?= python3
HAVE_USERSPACE := $(wildcard $(TOP)/userspace/Makefile)

.PHONY: all module modules-all userspace check soak demo bench install clean \
	setup kunit deb FORCE

all: module userspace

# Built in build/mod-$(KVER)/ like the others, then copied: kernel/ itself
# stays free of objects (the KUnit build reads kernel/ as a source tree).
module:
	@test -d "$(KDIR)" || { echo "make: no kernel build dir $(KDIR) (run scripts/setup or pass KDIR=)" >&2; exit 1; }
	@$(call link_sources,$(TOP)/build/mod-$(KVER))
	$(MAKE) -C $(KDIR) M=$(TOP)/build/mod-$(KVER) $(KBUILD_ARGS) modules
	cp $(TOP)/build/mod-$(KVER)/rblk.ko $(TOP)/kernel/rblk.ko

# One build directory per kernel release, filled with symlinks to the
# sources, so that the builds for several kernels never share objects.
# A failed build leaves no stale rblk.ko behind.
link_sources = mkdir -p $(1) && find $(1) -maxdepth 1 -type l -delete && \
	cd $(TOP)/kernel && for f in Kbuild Kconfig include *.c *.h; do \
		case "$$f" in *.mod.c|'*.c'|'*.h') continue;; esac; \
		ln -s "$(TOP)/kernel/$$f" "$(1)/$$f"; \
	done

# $(1): kernel release, $(2): its build directory, $(3): how to get it.
define mod_rule
modules-all: $(TOP)/build/mod-$(1)/rblk.ko
$(TOP)/build/mod-$(1)/rblk.ko: FORCE
	@test -d $(2) || { echo "make: no kernel build dir $(2) for $(1) ($(3))" >&2; exit 1; }
	@$$(call link_sources,$(TOP)/build/mod-$(1))
	$(MAKE) -C $(2) M=$(TOP)/build/mod-$(1) $(KBUILD_ARGS) modules || \
		{ rm -f $(TOP)/build/mod-$(1)/rblk.ko; exit 1; }
endef
$(foreach k,$(KVERS),$(eval $(call mod_rule,$(k),/lib/modules/$(k)/build,run scripts/setup)))
ifneq ($(KVER_DEBUG),)
$(eval $(call mod_rule,$(KVER_DEBUG),$(KDIR_61DEBUG),run scripts/debug-kernel))
endif

modules-all:
	@test -n "$(KVERS)" || { echo "make: no kernels known (run scripts/setup)" >&2; exit 1; }

userspace:
ifneq ($(HAVE_USERSPACE),)
	$(MAKE) -C $(TOP)/userspace
else
	@echo "make: userspace/ not there yet, skipping rblkadm"
endif

setup:
	$(TOP)/scripts/setup

# tests/run builds the modules and rblkadm itself (each build is reported as
# a test), then runs KUnit, cmocka and the VM tests on both kernels.
check: setup
	$(PYTHON) $(TOP)/tests/run $(TESTS)

# The long variants of the VM tests; figures to results/soak-*.txt.
soak: setup
	$(TOP)/scripts/soak $(TESTS)

kunit: setup
	$(TOP)/scripts/kunit

# setup writes build/kernels.env, which this make read before setup ran: the
# builds run in a fresh make that sees it.
demo: setup
	$(MAKE) -C $(TOP) modules-all userspace
	$(TOP)/scripts/demo

bench: setup
	$(MAKE) -C $(TOP) modules-all userspace
	$(TOP)/scripts/bench

install: module userspace
	install -D -m 0644 $(TOP)/kernel/rblk.ko $(DESTDIR)/lib/modules/$(KVER)/extra/rblk.ko
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); fi
ifneq ($(HAVE_USERSPACE),)
	$(MAKE) -C $(TOP)/userspace install DESTDIR=$(DESTDIR)
endif

# dpkg-buildpackage writes into the parent of the source directory: the
# copy is build/deb/rblk-VERSION/ (the files git knows and untracked ones it
# does not ignore, or without git everything but build/ and results/), so
# the packages land in build/deb/ and nothing outside the tree is touched.
DEB_DIR := $(TOP)/build/deb
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
		{ echo "make: dpkg-buildpackage or debhelper missing (run scripts/setup)" >&2; exit 1; }
	rm -rf $(DEB_DIR)
	set -e; v=$$(cd $(TOP) && dpkg-parsechangelog -S Version); \
	src=$(DEB_DIR)/rblk-$$v; mkdir -p $$src; \
	if git -C $(TOP) rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		(cd $(TOP) && git ls-files -z -c -o --exclude-standard | \
			tar --null -T - --ignore-failed-read -cf -) | tar -C $$src -xf -; \
	else \
		(cd $(TOP) && tar --exclude=./build --exclude=./results -cf - .) | tar -C $$src -xf -; \
	fi; \
	cd $$src && dpkg-buildpackage -us -uc -j$$(nproc); \
	rm -rf $$src
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf $(TOP)/build/mod-* $(TOP)/kernel/rblk.ko
ifneq ($(HAVE_USERSPACE),)
	$(MAKE) -C $(TOP)/userspace clean
endif

FORCE:
