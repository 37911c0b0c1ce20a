package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ServerMainLeakDetectionTest {
    private final String before = System.getProperty(ServerMain.LEAK_DETECTION_PROPERTY);

    @AfterEach
    void restore() {
        if (before == null) System.clearProperty(ServerMain.LEAK_DETECTION_PROPERTY);
        else System.setProperty(ServerMain.LEAK_DETECTION_PROPERTY, before);
    }

    @Test
    void aMemberProcessRunsWithoutNettysLeakDetectorUnlessTold() {
        System.clearProperty(ServerMain.LEAK_DETECTION_PROPERTY);
        ServerMain.quietLeakDetection();
        assertThat(System.getProperty(ServerMain.LEAK_DETECTION_PROPERTY)).isEqualTo("disabled");

        System.setProperty(ServerMain.LEAK_DETECTION_PROPERTY, "paranoid");
        ServerMain.quietLeakDetection();
        assertThat(System.getProperty(ServerMain.LEAK_DETECTION_PROPERTY)).as("an operator's choice stands").isEqualTo("paranoid");
    }
}
