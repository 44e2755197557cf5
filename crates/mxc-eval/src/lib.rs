//! MXC decision engine.
