# fuzz.mk - libFuzzer targets and their gcc replayers (STYLE.md R13).
#
# Included at the end of the Makefile, so CC, CFLAGS (with SANITIZER=),
# LDFLAGS, LIBS, LIB_SRCS, HDRS, WARN, PKG_CFLAGS and FLAGS_STAMP are the
# main build's.
#
#   make fuzz                   fuzz/fuzz_<t>, clang + libFuzzer + ASan/UBSan
#   make fuzz-run FUZZ_TARGET=reasm FUZZ_TIME=600
#                               fuzz one target; new inputs go to a scratch
#                               directory, merge them with fuzz-merge
#   make fuzz-merge FUZZ_TARGET=reasm
#                               minimise the scratch finds into the corpus
#   make fuzz-replay            fuzz/replay_<t> with $(CC) $(CFLAGS), then
#                               replay fuzz/corpus/<t>/ and fuzz/crashers/<t>/
#   make SANITIZER=address,undefined fuzz-replay
#   make fuzz-coverage          per-file coverage of the sources by the corpora
#
# The project sources are compiled straight into each binary (not taken
# from libstripwatch.a), so the fuzz build is instrumented throughout and a
# replayer never links objects built with other flags.

FUZZ_TARGETS	 = decode pcapfile reasm smtp tls sts_txt sts_policy pipeline
FUZZ_CC		?= clang
FUZZ_SAN	?= fuzzer,address,undefined
FUZZ_CFLAGS	?= -O1 -g
FUZZ_CFLAGS	+= -std=c11 -D_DEFAULT_SOURCE $(WARN) -I. $(PKG_CFLAGS) \
		   -fsanitize=$(FUZZ_SAN) -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
FUZZ_TIME	?= 600
FUZZ_TARGET	?= decode
FUZZ_FLAGS	?= -rss_limit_mb=2048 -timeout=10
FUZZ_SCRATCH	?= fuzz/scratch

# What each target compiles and links beyond its own file.
fuzz_srcs_decode	= capture/decode.c
fuzz_srcs_pcapfile	= capture/pcapfile.c capture/decode.c fuzz/memfd.c
fuzz_srcs_reasm		= dissect/reasm.c
fuzz_srcs_smtp		= dissect/smtp.c dissect/tls.c detect/detect.c \
			  detect/cert.c
fuzz_srcs_tls		= dissect/tls.c
fuzz_srcs_sts_txt	= policy/sts.c
fuzz_srcs_sts_policy	= policy/sts.c
fuzz_srcs_pipeline	= $(LIB_SRCS) fuzz/memfd.c
fuzz_libs_decode	=
fuzz_libs_pcapfile	= -lpcap
fuzz_libs_reasm		=
fuzz_libs_smtp		= -lcrypto
fuzz_libs_tls		=
fuzz_libs_sts_txt	=
fuzz_libs_sts_policy	=
fuzz_libs_pipeline	= -Wl,--wrap=classify_new -Wl,--wrap=classify_free \
			  $(LIBS)

FUZZ_BINS	= $(FUZZ_TARGETS:%=fuzz/fuzz_%)
FUZZ_REPLAYS	= $(FUZZ_TARGETS:%=fuzz/replay_%)

.PHONY: fuzz fuzz-run fuzz-merge fuzz-replay fuzz-coverage fuzz-clean

fuzz: $(FUZZ_BINS)

.SECONDEXPANSION:
$(FUZZ_BINS): fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h fuzz/memfd.h \
    $$(fuzz_srcs_$$*) $(HDRS) fuzz/fuzz.mk
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(fuzz_srcs_$*) $(fuzz_libs_$*)

# $(FLAGS_STAMP) (Makefile) changes name with the flags, so switching
# SANITIZER= rebuilds the replayers too.
$(FUZZ_REPLAYS): fuzz/replay_%: fuzz/fuzz_%.c fuzz/onefile.c fuzz/fuzz.h \
    fuzz/memfd.h $$(fuzz_srcs_$$*) $(HDRS) fuzz/fuzz.mk $(FLAGS_STAMP)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ fuzz/onefile.c $< $(fuzz_srcs_$*) \
	    $(fuzz_libs_$*)

fuzz-replay: $(FUZZ_REPLAYS)
	@tests/fuzz-replay.sh $(FUZZ_TARGETS)

# New finds land in $(FUZZ_SCRATCH)/<t>; the committed corpus is only read.
fuzz-run: fuzz/fuzz_$(FUZZ_TARGET)
	mkdir -p $(FUZZ_SCRATCH)/$(FUZZ_TARGET) fuzz/crashers/$(FUZZ_TARGET)
	fuzz/fuzz_$(FUZZ_TARGET) $(FUZZ_FLAGS) -max_total_time=$(FUZZ_TIME) \
	    -artifact_prefix=fuzz/crashers/$(FUZZ_TARGET)/ \
	    $(FUZZ_SCRATCH)/$(FUZZ_TARGET) fuzz/corpus/$(FUZZ_TARGET)

fuzz-merge: fuzz/fuzz_$(FUZZ_TARGET)
	fuzz/fuzz_$(FUZZ_TARGET) -merge=1 -rss_limit_mb=2048 -timeout=10 \
	    fuzz/corpus/$(FUZZ_TARGET) $(FUZZ_SCRATCH)/$(FUZZ_TARGET)

# Line and branch coverage of the project sources by the committed corpora.
LLVM_PROFDATA	?= llvm-profdata
LLVM_COV	?= llvm-cov
FUZZ_COVS	 = $(FUZZ_TARGETS:%=fuzz/cov_%)
FUZZ_COV_CFLAGS	 = -O0 -g -std=c11 -D_DEFAULT_SOURCE -I. $(PKG_CFLAGS) \
		   -fprofile-instr-generate -fcoverage-mapping

$(FUZZ_COVS): fuzz/cov_%: fuzz/fuzz_%.c fuzz/onefile.c fuzz/fuzz.h \
    $$(fuzz_srcs_$$*) $(HDRS) fuzz/fuzz.mk
	$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -o $@ fuzz/onefile.c $< \
	    $(fuzz_srcs_$*) $(fuzz_libs_$*)

fuzz-coverage: $(FUZZ_TARGETS:%=fuzz-coverage-%)

fuzz-coverage-%: fuzz/cov_%
	LLVM_PROFILE_FILE=fuzz/cov_$*.profraw $< fuzz/corpus/$* >/dev/null 2>&1
	$(LLVM_PROFDATA) merge -o fuzz/cov_$*.profdata fuzz/cov_$*.profraw
	$(LLVM_COV) report $< -instr-profile=fuzz/cov_$*.profdata \
	    $(fuzz_srcs_$*)

fuzz-clean:
	rm -f $(FUZZ_BINS) $(FUZZ_REPLAYS) $(FUZZ_COVS) fuzz/cov_*.prof*
	rm -rf $(FUZZ_SCRATCH)
