"""Fine-tuning: training data from corrections, augmentation, losses, the training loop."""
