/**
 * Registers every built-in node type in this process (the executor serves exactly what the registry holds).
 * A separate module so that the import is explicit and happens once.
 *
 * @module
 */
import '../src/operators/index.js';
import '../src/operators/ml/index.js';
