"""DreamerV2 world-model layers: recurrent state-space models, image encoder/decoder, MLP heads."""
