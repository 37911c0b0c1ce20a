/** Storage benchmarks run by {@code synod bench storage}. */
package io.synod.storage.bench;
