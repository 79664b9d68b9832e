"""Think-tank outputs: analyses published by analysts and attached to subcommittees."""
