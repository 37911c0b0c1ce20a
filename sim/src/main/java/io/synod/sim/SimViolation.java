package io.synod.sim;

/** Thrown inside a simulated run when a safety or liveness property fails; ends that run. */
final class SimViolation extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SimViolation(String message) {
        super(message);
    }
}
