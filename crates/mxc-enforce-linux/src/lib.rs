//! Linux enforcement (Landlock, seccomp, namespaces, supervisor, proxy). Not built yet: see issue 4.
