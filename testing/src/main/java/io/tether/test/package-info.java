/**
 * Test support for code written on Tether.
 *
 * <ul>
 *   <li>{@link io.tether.test.Rollback}: run a pipeline in a transaction that is always rolled back.</li>
 *   <li>{@link io.tether.test.TetherTest}: a JUnit 5 extension that provides a {@code Database} (embedded H2,
 *       or PostgreSQL), creates the schema, and fails a test that leaves a connection acquired or a transaction
 *       open, commits outside the rollback scope, or (strict mode) acquires outside the pipelines it was given.</li>
 *   <li>{@link io.tether.test.RecordingConnectionFactory}: a wrapper for any factory that records acquisitions,
 *       releases, transactions and statements.</li>
 *   <li>{@link io.tether.test.TetherAssertions}: assertions over what was recorded, over one pipeline
 *       ({@link io.tether.test.PipelineProbe}) and over a pool.</li>
 * </ul>
 */
@NullMarked
package io.tether.test;

import org.jspecify.annotations.NullMarked;
