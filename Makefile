# amt: build, test, benchmark.  `make help` lists the targets.
#
# Sources are found by folder: every .c in the library folders goes into libamt.a;
# train/amt-*.c and infer/amt-*.c are tools (bin/amt-*); tests/test_*.c are test
# programs; bench/bench_*.c are benchmarks. Adding a file needs no Makefile change.

CC      ?= gcc
BUILD   ?= build
ARCH    ?= -march=native
SANITIZE ?= 0
PKGS    := openblas fftw3f fftw3 sndfile soxr libpng fluidsynth inih hdf5 lapacke zlib

LIBDIRS := core core/ops layers audio eval datasets models app train infer
LIB_SRC := $(filter-out train/amt-%.c infer/amt-%.c,$(foreach d,$(LIBDIRS),$(wildcard $(d)/*.c)))
TOOL_SRC := $(wildcard train/amt-*.c infer/amt-*.c)
TEST_SRC := $(wildcard tests/test_*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)

ifeq ($(SANITIZE),1)
  BUILD  := build-san
  OPT    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN  := -fsanitize=address,undefined
else
  OPT    := -O3 $(ARCH) -g
  LDSAN  :=
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
OPENBLAS_DIR := $(shell pkg-config --variable=libdir openblas 2>/dev/null)

CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -fopenmp $(OPT) -I. $(PKG_CFLAGS) \
           -DAMT_VERSION='"$(shell cat VERSION 2>/dev/null || echo 0.0.0)"'
LDLIBS  += $(PKG_LIBS) -lgomp -lm
comma := ,
LDFLAGS += -fopenmp $(LDSAN) $(if $(OPENBLAS_DIR),-Wl$(comma)-rpath$(comma)$(OPENBLAS_DIR))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB     := $(BUILD)/libamt.a
TOOLS   := $(patsubst %.c,bin/%,$(notdir $(TOOL_SRC)))
TESTS   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
# Tools of a sanitizer build or of a BUILD= directory other than build/ go beside its tests
# ($(BUILD)/bin) so they never replace the normal ones in bin/.
TOOLDIR := $(if $(filter 1,$(SANITIZE)),$(BUILD)/bin,$(if $(filter build,$(BUILD)),bin,$(BUILD)/bin))
TOOLS   := $(patsubst %.c,$(TOOLDIR)/%,$(notdir $(TOOL_SRC)))

.SECONDARY:
.PHONY: all tools test bench deps models clean help check-deps
all: $(LIB) $(TOOLS)
tools: $(TOOLS)

help:
	@echo "make            build libamt.a and the tools into bin/"
	@echo "make test       build and run every test (SANITIZE=1 for ASan+UBSan)"
	@echo "make bench      build and run the benchmarks (JSON to bench/results/)"
	@echo "make deps       install the Debian packages the project needs"
	@echo "make models     retrain the shipped models from rendered data"

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(TOOLDIR)/amt-%: $(BUILD)/obj/train/amt-%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@
$(TOOLDIR)/amt-%: $(BUILD)/obj/infer/amt-%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

# A test links test-local wrappers of malloc when it asks for them (see tests/test_alloc.c).
WRAP_test_alloc := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign
$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(WRAP_$*) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

test: $(TESTS) $(TOOLS)
	@AMT_BIN=$(TOOLDIR) sh tests/run.sh $(TESTS)

bench: $(BENCHES) $(TOOLS)
	@mkdir -p bench/results
	@BUILD=$(BUILD) sh bench/run.sh $(BENCHES)

deps:
	sh scripts/deps.sh

# Retrains every shipped model from rendered data (scripts/models/*.sh say how long each takes).
models: $(TOOLS)
	@for k in transcriber separator classifier; do \
	  echo "== models: $$k (scripts/models/$$k.sh)"; sh scripts/models/$$k.sh || exit 1; done

clean:
	rm -rf build build-san build-* bin

-include $(LIB_OBJ:.o=.d) $(TESTS:$(BUILD)/tests/%=$(BUILD)/obj/tests/%.d)
