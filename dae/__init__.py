"""Library of the denoising-autoencoder pipeline: plain functions that the stages call and the tests import."""
