# Top-level wrapper around Meson + Ninja. Each target installs what it needs.
BUILD     ?= build
BUILD_SAN ?= build-san
DEPS      := meson ninja-build gcc pkg-config libcmocka-dev libjson-c-dev libibverbs-dev ibverbs-utils perftest rdma-core \
             liburing-dev libisal-dev libpcap-dev nftables iproute2 jq python3 iperf3 tshark tcpdump ethtool gnuplot-nox
MESON_OPTS ?=

.PHONY: all deps check check-plain check-san demo bench clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@./scripts/deps.sh $(DEPS)

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) --buildtype=debugoptimized -Dwerror=true $(MESON_OPTS)

$(BUILD_SAN)/build.ninja: | deps
	meson setup $(BUILD_SAN) --buildtype=debug -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false $(MESON_OPTS)

# The suite twice: a normal build and an ASan+UBSan build; one summary line.
check: $(BUILD)/build.ninja $(BUILD_SAN)/build.ninja
	ninja -C $(BUILD)
	ninja -C $(BUILD_SAN)
	@./scripts/check.sh $(BUILD) $(BUILD_SAN)

check-plain: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	@./scripts/check.sh $(BUILD)

demo: all
	@./scripts/demo.sh $(BUILD)

bench: all
	@./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
