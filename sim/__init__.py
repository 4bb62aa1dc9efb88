"""The simulated optical bench: scattering media, the camera model and simulated devices."""
