"""The bundled emulator: boots a pvgen image on Unicorn, partition by partition.

Split the way Qiling splits an emulator: ``arch`` knows each CPU (Unicorn
modes, registers, traps and faults), ``loader`` reads the image and finds the
generated dispatcher, ``partition`` is one Unicorn instance and its address
space, ``module`` runs the time partitioning, ``services`` are the hypercall
handlers, ``hm`` the health monitor. The generated dispatcher is the only
bridge between a partition's CPU and the services.
"""
