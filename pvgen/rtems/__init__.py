"""The RTEMS harness: a toolchain, RTEMS 6 built with the pokpv BSP, its tests as partitions.

``sources`` finds the RTEMS and newlib sources; ``toolchain`` builds an i386-rtems6
toolchain from zig's clang (or takes a user's gcc), with ``bin2c`` for the test suites;
``port`` adds the BSP's RTEMS_PARAVIRT hooks to RTEMS's i386 port; ``build`` builds RTEMS
with waf (``steps`` runs the build steps of both); ``app`` builds an application of one's
own against it; ``run`` packs programs into images and boots them; ``expected`` compares a
sample's output with RTEMS's; ``cli`` is ``pvgen rtems``. The tester's rules are
``pvgen.tester``'s, shared with the emulator.
"""

BSP = "i386/pokpv"
# The test suites the harness builds, by directory below testsuites/, and the RTEMS build
# option that enables each.
SUITES = {"samples": "BUILD_SAMPLES", "sptests": "BUILD_SPTESTS",
          "psxtests": "BUILD_PSXTESTS", "tmtests": "BUILD_TMTESTS"}
DEFAULT_LIMIT_NS = 120_000_000_000  # virtual time a test may take (the tester allows 180 s)
