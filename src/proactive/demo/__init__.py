"""The demo: a synthetic Binjiang extract generated, loaded, run and summarised."""
