//! The compiled preload list (placeholder; being written).
