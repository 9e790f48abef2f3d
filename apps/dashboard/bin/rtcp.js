#!/usr/bin/env node
// The installed command: the compiled app, run by plain node.
import "../dist/main.js"
