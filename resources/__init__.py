"""Files that ship: the default model, sample stacks, presets."""
