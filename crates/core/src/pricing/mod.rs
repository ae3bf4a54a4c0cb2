//! Model prices and the cost of usage, in exact decimal money.
