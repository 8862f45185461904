# Thin wrapper: the real steps live in scripts/quickstart (which also works without make).
BUILD ?= build
export NNCL_BUILD := $(BUILD)

.PHONY: all deps build demo test clean
all: build
deps:
	bash scripts/install-deps
build:
	bash scripts/install-deps
	[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD)
	ninja -C $(BUILD)
demo:
	bash scripts/quickstart demo
test:
	bash scripts/quickstart test
clean:
	rm -rf $(BUILD)
