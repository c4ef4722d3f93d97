"""The real POK kernel as a target: what a POK build of a module needs, and checking it.

- ``deployment``: the module as POK's configuration sees it (``deployment.h``/``.c``).
- ``system``: a POK system directory that POK's own make rules build unchanged.
- ``kernel``: an already linked ``pok.elf``, its partitions replaced.
- ``tree``, ``qemu``, ``check``: the harness that builds such systems in a POK tree,
  boots them under QEMU and compares their consoles with the emulator's run.
"""
