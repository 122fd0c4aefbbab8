# Warnings for every project target. segsim_warnings is an interface target each layer links.
add_library(segsim_warnings INTERFACE)
target_compile_options(segsim_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wformat=2 -Wimplicit-fallthrough)
